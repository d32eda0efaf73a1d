#!/usr/bin/env python3
"""This repository's spec guard: the README must document every command the CLI has.

The embedded ``diagnostics`` pipeline runs it as its guardrail stage. It reads the
command names from the real Typer application, so a new command without a README
section fails the guard.
"""

import re
import sys
from pathlib import Path

from codex_orchestrator.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def documented(readme: str, name: str) -> bool:
    """A command counts as documented when the README has a section or a tour line for it."""
    heading = re.compile(rf"^###\s+`{re.escape(name)}\b", re.MULTILINE)
    tour = re.compile(rf"^codex-orchestrator {re.escape(name)}\b", re.MULTILINE)
    return bool(heading.search(readme) or tour.search(readme))


def main() -> int:
    """Check every command and group; print what is missing; 0 when nothing is."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [command.name for command in app.registered_commands if command.name]
    names += [group.name for group in app.registered_groups if group.name]
    missing = [name for name in sorted(names) if not documented(readme, name)]
    for name in missing:
        print(f"spec-guard: README.md does not document `codex-orchestrator {name}`")
    if not (ROOT / ".runs" / "README.md").is_file():
        print("spec-guard: .runs/README.md (the evidence layout for reviewers) is missing")
        missing.append(".runs/README.md")
    if not missing:
        print(f"spec-guard: README.md documents all {len(names)} commands")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
