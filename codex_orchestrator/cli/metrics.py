"""``metrics summary``: a task's ``metrics.json`` summarised into ``metrics-summary.json``."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    OutputFormat,
    TaskOption,
    emit_json,
    repo_root,
    run_command_as_script,
    run_core,
)
from codex_orchestrator.errors import ExitCode

SummarizeOption = Annotated[
    bool,
    typer.Option("--summarize", hidden=True, help="Accepted for the TypeScript script's callers."),
]


def register(app: typer.Typer) -> None:
    """Add the ``metrics`` group (``metrics summary``) to the app."""
    group = typer.Typer(
        name="metrics",
        help="Metrics of finished runs.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    group.command("summary")(summary)
    app.add_typer(group, name="metrics")


def summary(
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    summarize: SummarizeOption = False,
) -> None:
    """Summarise .runs/<task>/metrics.json into .runs/<task>/metrics-summary.json."""
    del summarize  # the old script's only flag; summarising is what this command does
    from codex_orchestrator.legacy.metrics_summary import SummaryRequest, summarize_task

    request = SummaryRequest(root=repo_root(), task=task)

    def call() -> ExitCode:
        result = summarize_task(request)
        if fmt is OutputFormat.JSON:
            emit_json(result.document)
            return ExitCode.OK
        from codex_orchestrator.store.layout import relative_to_root
        from codex_orchestrator.ui.metrics_view import render_summary

        render_summary(result.document, relative_to_root(request.root, result.path))
        return ExitCode.OK

    run_core(call)


def script_main() -> None:
    """``scripts/mcp-runner-metrics.py``: ``metrics summary`` as a command of its own."""
    run_command_as_script(summary, "mcp-runner-metrics.py")
