"""``runs``: the runs of a task (or of every task), newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    OutputFormat,
    TaskOption,
    emit_json,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode, InvalidInput


def register(app: typer.Typer) -> None:
    """Add ``runs`` to the app."""
    app.command("runs")(runs)


def runs(
    task: TaskOption = None,
    all_tasks: Annotated[
        bool, typer.Option("--all-tasks", help="List the runs of every task.")
    ] = False,
    fmt: FormatOption = OutputFormat.TEXT,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="Only runs with this status (succeeded, failed, cancelled, in_progress, "
            "lost, ...).",
            show_default=False,
        ),
    ] = None,
    pipeline: Annotated[
        str | None,
        typer.Option(
            "--pipeline", metavar="ID", help="Only runs of this pipeline.", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", metavar="N", min=1, help="At most N runs (the newest).", show_default=False
        ),
    ] = None,
) -> None:
    """List runs with status, pipeline, start time and duration, newest first.

    A run whose manifest says in_progress but whose runner is dead is shown as lost.
    """
    from codex_orchestrator.views.runs import RunsRequest, list_run_rows

    request = RunsRequest(
        root=repo_root(),
        task=task,
        all_tasks=all_tasks,
        status=status,
        pipeline=pipeline,
        limit=limit,
    )

    def call() -> ExitCode:
        if all_tasks and task is not None:
            raise InvalidInput("give --task ID or --all-tasks, not both")
        rows = list_run_rows(request)
        if fmt is OutputFormat.JSON:
            emit_json(rows)
            return ExitCode.OK
        from codex_orchestrator.ui.runs_view import render_runs

        render_runs(rows, show_task=all_tasks)
        return ExitCode.OK

    run_core(call)
