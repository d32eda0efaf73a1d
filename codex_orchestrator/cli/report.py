"""``report``: a run as HTML, JUnit XML, a Markdown step summary or a trace."""

from __future__ import annotations

from pathlib import Path
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
from codex_orchestrator.model import ReportFormat


def register(app: typer.Typer) -> None:
    """Add ``report`` to the app."""
    app.command("report")(report)


def report(
    run: RunOption = None,
    latest: LatestOption = False,
    task: TaskOption = None,
    report_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="html (one self-contained page), junit (XML), markdown (step summary), "
            "trace (Chrome trace-event JSON for Perfetto).",
        ),
    ] = ReportFormat.HTML,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write here instead of stdout.", show_default=False),
    ] = None,
) -> None:
    """Render a run's report (exit 2 when the run is not found or unreadable)."""
    from codex_orchestrator.report.command import ReportRequest, make_report

    root = repo_root()

    def call() -> ExitCode:
        run_id = chosen_run(root, run, latest, task)
        request = ReportRequest(
            root=root, run_id=run_id, task=task, report_format=report_format, out=out
        )
        return make_report(request)

    run_core(call)
