"""``status``: one run's state and whether its runner is alive; ``--watch`` follows it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    LatestOption,
    OutputFormat,
    RunOption,
    TaskOption,
    emit_json,
    repo_root,
    require_one_run,
    run_core,
)
from codex_orchestrator.errors import ExitCode

if TYPE_CHECKING:
    from codex_orchestrator.views.status import RunStatusView


def register(app: typer.Typer) -> None:
    """Add ``status`` to the app."""
    app.command("status")(status)


def status(
    run: RunOption = None,
    latest: LatestOption = False,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    watch: Annotated[
        bool, typer.Option("--watch", help="Redraw until the run ends; exit 0 if it succeeded.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between redraws with --watch.")
    ] = 10.0,
) -> None:
    """Show a run's manifest state and runner activity (exit 2 when not found/unreadable)."""
    from codex_orchestrator.store.layout import RunsLayout
    from codex_orchestrator.views.status import StatusRequest, locate, read_status

    request = StatusRequest(root=repo_root(), run_id=run, latest=latest, task=task)

    def call() -> ExitCode:
        require_one_run(run, latest)
        layout = RunsLayout.for_root(request.root)
        ref = locate(request, layout)
        while True:
            view = read_status(ref, layout)
            _show(view, fmt, watch)
            if not watch:
                return ExitCode.OK
            if view.terminal or view.lost:
                ok = view.manifest.status == "succeeded"
                return ExitCode.OK if ok else ExitCode.RUN_FAILED
            time.sleep(interval)

    run_core(call)


def _show(view: RunStatusView, fmt: OutputFormat, watch: bool) -> None:
    if fmt is OutputFormat.JSON:
        # With --watch, one compact document per line (JSON Lines); else one document.
        emit_json(view.document(), pretty=not watch)
        return
    from codex_orchestrator.ui.status_view import render_status

    render_status(view, redraw=watch)
