"""codex-orchestrator: a command-pipeline runner that leaves evidence a reviewer can trust."""

__version__ = "0.1.0"
