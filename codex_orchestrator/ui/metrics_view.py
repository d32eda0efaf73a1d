"""The metrics summary as tables people can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

_SHOWN_PARSE_ERRORS = 5


def render_summary(summary: Mapping[str, Any], path: str, console: Console | None = None) -> None:
    """Headline figures, runs by status, the per-pipeline table, the first parse errors."""
    console = console or Console()
    headline = Table(title=f"Metrics of task {summary['task_id']}", show_header=False)
    headline.add_column("figure", style="bold")
    headline.add_column("value")
    rows = [
        ("metrics file", str(summary["metrics_file"])),
        ("runs", str(summary["entries_total"])),
        ("by status", _statuses(summary.get("status_counts") or {})),
        ("success rate", _percent(summary.get("success_rate"))),
        ("guardrail coverage", _percent(summary.get("guardrail_coverage"))),
        ("duration avg", _seconds(summary.get("average_duration_seconds"))),
        ("duration p50 / p95 / max", _durations(summary)),
        ("first run", str(summary.get("first_run_at") or "-")),
        ("last run", str(summary.get("last_run_at") or "-")),
        ("resumed lines superseded", str(summary.get("lines_superseded", 0))),
        ("parse errors", str(summary.get("parse_errors_total", len(summary["parse_errors"])))),
    ]
    for name, value in rows:
        headline.add_row(name, Text(value))
    console.print(headline)
    pipelines = summary.get("pipelines") or {}
    if pipelines:
        console.print(_pipeline_table(pipelines))
    for error in list(summary["parse_errors"])[:_SHOWN_PARSE_ERRORS]:
        console.print(f"line {error['line']}: {error['error']}", markup=False, highlight=False)
    console.print(f"summary written to {path}", markup=False, highlight=False)


def _pipeline_table(pipelines: Mapping[str, Mapping[str, Any]]) -> Table:
    # Short headers and a compact box keep every figure whole on 80 columns.
    table = Table(title="By pipeline", box=box.SIMPLE_HEAD)
    table.add_column("pipeline", overflow="fold")
    for column in ("runs", "ok", "failed", "cancelled", "success", "p95", "avg"):
        table.add_column(column, justify="right", no_wrap=True)
    for name, figures in pipelines.items():
        table.add_row(
            Text(name),
            str(figures["entries_total"]),
            str(figures["entries_succeeded"]),
            str(figures["entries_failed"]),
            str(figures["entries_cancelled"]),
            _percent(figures.get("success_rate")),
            _seconds(figures.get("duration_p95_seconds")),
            _seconds(figures.get("average_duration_seconds")),
        )
    return table


def _statuses(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "-"


def _durations(summary: Mapping[str, Any]) -> str:
    keys = ("duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds")
    return " / ".join(_seconds(summary.get(key)) for key in keys)


def _percent(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "-"


def _seconds(value: Any) -> str:
    return f"{value:.3f}s" if isinstance(value, int | float) else "-"
