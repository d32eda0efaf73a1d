"""The runs table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from codex_orchestrator.ui.status_view import _STYLE

WIDE_COLUMNS = 110


def render_runs(
    rows: list[dict[str, Any]], console: Console | None = None, *, show_task: bool
) -> None:
    """A table of runs, newest first."""
    console = console or Console()
    if not rows:
        console.print("no runs")
        return
    table = Table(show_edge=False, pad_edge=False)
    # The run id is the start time (UTC, to the millisecond). A separate "started"
    # column is shown when the terminal is wide enough; on an 80-column pipe or CI
    # log it would squeeze ids and statuses, which must stay whole.
    show_started = console.width >= WIDE_COLUMNS
    columns = [
        "run",
        *(["task"] if show_task else []),
        "status",
        "pipeline",
        *(["started"] if show_started else []),
        "duration",
    ]
    for column in columns:
        table.add_column(column, no_wrap=column in ("run", "status", "task", "started"))
    for row in rows:
        duration = row.get("duration_seconds")
        status = str(row.get("status"))
        style = _STYLE.get(status)
        started = str(row.get("started_at") or "unknown").replace("T", " ")[:19]
        cells = [
            str(row["run_id"]),
            *([str(row["task_id"])] if show_task else []),
            f"[{style}]{status}[/]" if style else status,
            str(row.get("pipeline_id") or "unknown"),
            *([started] if show_started else []),
            f"{duration:.2f}s" if isinstance(duration, int | float) else "-",
        ]
        table.add_row(*cells)
    console.print(table)
