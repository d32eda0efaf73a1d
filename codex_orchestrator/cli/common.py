"""What every command shares: the error boundary, output formats, repo root."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from codex_orchestrator.errors import ExitCode, OrchestratorError

PROG = "codex-orchestrator"
ROOT_ENV = "CODEX_ORCHESTRATOR_ROOT"


class OutputFormat(enum.StrEnum):
    """How a command reports: human text on stderr/stdout, or one JSON document."""

    TEXT = "text"
    JSON = "json"


TaskOption = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="Task id (default: $MCP_RUNNER_TASK_ID, $CODEX_ORCHESTRATOR_TASK_ID, else 0101).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="text for people, json for one JSON document on stdout."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: $CODEX_ORCHESTRATOR_REPO_CONFIG_PATH, "
        "else ./codex.orchestrator.json).",
        show_default=False,
        dir_okay=False,
    ),
]


def repo_root() -> Path:
    """The repository root: ``$CODEX_ORCHESTRATOR_ROOT`` or the working directory."""
    override = os.environ.get(ROOT_ENV)
    return Path(override).resolve() if override else Path.cwd()


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Print a one-line error on stderr and exit."""
    sys.stderr.write(f"{PROG}: error: {message}\n")
    raise typer.Exit(int(code))


def run_core(call: Callable[[], int]) -> NoReturn:
    """Run one core function; map our errors to one line and their exit code."""
    try:
        code = call()
    except OrchestratorError as exc:
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.CANCELLED)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        fail(f"internal error: {exc!r}", ExitCode.INTERNAL)
    raise typer.Exit(int(code))
