"""``exec``: one command with full evidence, as a one-stage run."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    OutputFormat,
    QuietOption,
    TaskOption,
    repo_root,
    run_core,
)
from codex_orchestrator.cli.start import StageTimeoutOption


def register(app: typer.Typer) -> None:
    """Add ``exec`` to the app."""
    app.command(
        "exec",
        context_settings={"allow_interspersed_args": False},
    )(exec_command)


def exec_command(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="The command and its arguments, after --.", show_default=False),
    ] = None,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    stage_timeout: StageTimeoutOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run one command (after --) as pipeline 'exec'; exit with the command's exit code."""
    from codex_orchestrator.cli.output import make_observer, print_result
    from codex_orchestrator.engine.launch import ExecRequest, exec_exit_code, launch_exec

    request = ExecRequest(
        root=repo_root(), argv=tuple(command or ()), task=task, stage_timeout_ms=stage_timeout
    )

    def call() -> int:
        observer = make_observer(fmt, interactive=False, quiet=quiet, root=request.root)
        result = launch_exec(request, observer)
        print_result(result, fmt)
        return exec_exit_code(result)

    run_core(call)
