"""What every command shares: the error boundary, output formats, repo root."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

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
RunOption = Annotated[
    str | None, typer.Option("--run", metavar="ID", help="Run id.", show_default=False)
]
LatestOption = Annotated[
    bool, typer.Option("--latest", help="The newest run of the task (instead of --run).")
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
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Text mode: only the stage lines, not the commands' output (a failed stage "
        "still shows its last 20 lines).",
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        metavar="STAGE",
        help="Focus on this stage: recorded as plan_target_id (PIPELINE:STAGE).",
        show_default=False,
    ),
]
TargetStageOption = Annotated[
    str | None,
    typer.Option("--target-stage", metavar="STAGE", help="Same as --target.", show_default=False),
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
        help="Dask scheduler tcp://HOST:PORT; implies the dask executor (with the dask "
        "executor and no scheduler, a local cluster is started for the run).",
        show_default=False,
    ),
]


def require_one_run(run: str | None, latest: bool) -> None:
    """Exactly one of ``--run ID`` and ``--latest`` (InvalidInput: exit 2). Call inside
    ``run_core``."""
    if (run is None) == (not latest):
        from codex_orchestrator.errors import InvalidInput

        raise InvalidInput("give exactly one of --run ID or --latest")


def chosen_run(root: Path, run: str | None, latest: bool, task: str | None) -> str:
    """The run id ``--run`` gives, or with ``--latest`` the newest run a person started
    (as ``status --latest``); exactly one of them. Call inside ``run_core``."""
    require_one_run(run, latest)
    if run is not None:
        return run
    from codex_orchestrator.store.layout import RunsLayout
    from codex_orchestrator.views.status import StatusRequest, locate

    request = StatusRequest(root=root, run_id=None, latest=True, task=task)
    return locate(request, RunsLayout.for_root(root)).run_id


def repo_root() -> Path:
    """The repository root: ``$CODEX_ORCHESTRATOR_ROOT``, else the nearest directory up
    to the git top level holding ``codex.orchestrator.json``, else that top level, else
    the working directory."""
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    from codex_orchestrator.rootdir import find_repo_root

    return find_repo_root(Path.cwd())


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
    except (PermissionError, NotADirectoryError, IsADirectoryError) as exc:
        # A path out of reach or in the way is the user's to fix: name it, exit 2.
        fail(f"cannot use {exc.filename}: {exc.strerror or exc}", ExitCode.USAGE)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        fail(f"internal error: {exc!r}", ExitCode.INTERNAL)
    raise typer.Exit(int(code))


def run_app(app: typer.Typer, *, prog_name: str = PROG, argv: list[str] | None = None) -> NoReturn:
    """Run a Typer app as a program: usage errors, like every error, are one line."""
    import typer.main

    command = typer.main.get_command(app)
    uniform_metavars(command)
    try:
        code = command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except Exception as exc:
        usage_error = _usage_error(exc, prog_name)
        if usage_error is None:
            raise
        message, exit_code = usage_error
        sys.stderr.write(f"{message}\n")
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


_METAVARS = {
    "run": "ID",
    "run_id": "ID",
    "parent_run": "ID",
    "task": "ID",
    "stage": "ID",
    "config": "PATH",
    "out": "PATH",
}


def uniform_metavars(command: Any) -> None:
    """One metavar style in every help text: a value's name in capitals (``--task TASK``),
    choices as ``text|json``, whatever each command declared."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", None) != "option" or param.is_flag or param.count:
            continue
        choices = getattr(param.type, "choices", None)
        if choices:
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in choices)
        elif not (param.metavar and param.metavar.isupper()):
            name = param.name or "value"
            param.metavar = _METAVARS.get(name, name.upper())
    for sub in getattr(command, "commands", {}).values():
        uniform_metavars(sub)


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
