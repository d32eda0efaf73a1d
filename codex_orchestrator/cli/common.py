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


class ExecutorName(enum.StrEnum):
    """``--executor``: where command stages run (mirrors model.ExecutorKind)."""

    LOCAL = "local"
    DASK = "dask"


ExecutorOption = Annotated[
    ExecutorName | None,
    typer.Option(
        "--executor",
        help="Where command stages run: local processes, or Dask workers (the [dask] extra). "
        "Default: the config's executor, else local.",
        show_default=False,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler tcp://HOST:PORT (implies --executor dask; without it a local "
        "cluster is started for the run).",
        show_default=False,
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


def run_app(app: typer.Typer, *, prog_name: str = PROG, argv: list[str] | None = None) -> NoReturn:
    """Run a Typer app as a program: usage errors, like every error, are one line."""
    try:
        code = app(args=argv, prog_name=prog_name, standalone_mode=False)
    except Exception as exc:
        usage_error = _usage_error(exc, prog_name)
        if usage_error is None:
            raise
        message, exit_code = usage_error
        sys.stderr.write(f"{message}\n")
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception, prog_name: str) -> tuple[str, int] | None:
    """The one-line message and exit code of a command-line parsing error, if it is one.

    Typer's parser errors carry ``format_message()``, ``exit_code`` and the context
    of the command; naming that command's ``--help`` replaces the usage block.
    """
    format_message = getattr(exc, "format_message", None)
    exit_code = getattr(exc, "exit_code", None)
    if not callable(format_message) or not isinstance(exit_code, int):
        return None
    message = str(format_message())
    if "\n" in message:  # a group called without a command: its help says what to do
        return message.rstrip(), exit_code
    context = getattr(exc, "ctx", None)
    command_path = getattr(context, "command_path", None) or prog_name
    return f"{prog_name}: error: {message} (see '{command_path} --help')", exit_code


def emit_json(document: object, *, pretty: bool = True) -> None:
    """Write one JSON document (one line when not ``pretty``) to stdout."""
    import orjson

    option = orjson.OPT_INDENT_2 if pretty else 0
    sys.stdout.buffer.write(orjson.dumps(document, option=option) + b"\n")
    sys.stdout.flush()


def run_command_as_script(command: Callable[..., None], prog_name: str) -> NoReturn:
    """One command as a program of its own (the thin wrappers under scripts/)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command(help=command.__doc__)(command)
    run_app(app, prog_name=prog_name)
