"""``logs``: print a run's command output, bytes exact; ``--follow`` tails a live run."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    LatestOption,
    RunOption,
    TaskOption,
    chosen_run,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode


class Stream(enum.StrEnum):
    """Which output stream to print."""

    STDOUT = "stdout"
    STDERR = "stderr"


def register(app: typer.Typer) -> None:
    """Add ``logs`` to the app."""
    app.command("logs")(logs)


def logs(
    run: RunOption = None,
    latest: LatestOption = False,
    task: TaskOption = None,
    stage: Annotated[
        str | None,
        typer.Option("--stage", metavar="ID", help="Only this stage's output.", show_default=False),
    ] = None,
    stream: Annotated[
        Stream | None,
        typer.Option(
            "--stream", help="Only this stream (default: both, in order).", show_default=False
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep printing while the run goes on; exit when "
            "it ends (0 if it succeeded, 1 otherwise).",
        ),
    ] = False,
) -> None:
    """Print a run's command output from its events, bytes exact (non-UTF-8 included).

    Exit 0 printed (with --follow: the run succeeded), 1 followed run did not succeed,
    2 unknown run or stage.
    """
    from codex_orchestrator.model import RunStatus
    from codex_orchestrator.views.logs import LogsRequest, print_logs

    root = repo_root()
    out = sys.stdout.buffer

    def write(data: bytes) -> None:
        out.write(data)
        out.flush()

    def call() -> ExitCode:
        request = LogsRequest(
            root=root,
            run_id=chosen_run(root, run, latest, task),
            task=task,
            stage=stage,
            stream=None if stream is None else str(stream),
            follow=follow,
        )
        status = print_logs(request, write)
        if follow and status is not RunStatus.SUCCEEDED:
            return ExitCode.RUN_FAILED
        return ExitCode.OK

    run_core(call)
