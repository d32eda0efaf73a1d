"""Choosing the observer and printing a finished run, shared by start, exec and resume."""

from __future__ import annotations

import sys
from pathlib import Path

from codex_orchestrator.cli.common import OutputFormat, emit_json
from codex_orchestrator.engine.observer import RunObserver
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.errors import ExitCode


def make_observer(
    fmt: OutputFormat, interactive: bool | None, *, quiet: bool = False, root: Path | None = None
) -> RunObserver:
    """Live view on a TTY when asked; plain progress otherwise (stderr in JSON mode).

    Text mode shows the commands' output lines as they arrive unless ``quiet``; JSON
    mode shows stage lines only, on stderr. A failed stage's last lines show in both.
    """
    if fmt is OutputFormat.JSON:
        from codex_orchestrator.ui.progress import TextObserver

        return TextObserver(sys.stderr, quiet=True, root=root)
    # Off unless asked for (as in the TypeScript tool), and only on a terminal.
    if interactive and sys.stdout.isatty():
        from codex_orchestrator.ui.live import LiveObserver

        return LiveObserver()
    from codex_orchestrator.ui.progress import TextObserver

    return TextObserver(sys.stdout, quiet=quiet, root=root, errors=sys.stderr)


def print_result(result: RunResult, fmt: OutputFormat) -> ExitCode:
    """One JSON document on stdout, or the closing text block; the run's exit code."""
    if fmt is OutputFormat.JSON:
        emit_json(result.document())
    else:
        from codex_orchestrator.ui.progress import render_result

        render_result(result.manifest, str(result.document()["manifest"]), sys.stdout)
    return result.exit_code


def warn(message: str) -> None:
    """A warning line on stderr."""
    sys.stderr.write(f"codex-orchestrator: warning: {message}\n")
