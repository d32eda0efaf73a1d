"""Rendering a run's status for people."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from codex_orchestrator.views.runs import recorded_status
from codex_orchestrator.views.status import RunStatusView

_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
    "in_progress": "cyan",
    "running": "cyan",
    "skipped": "dim",
    "pending": "dim",
    "queued": "dim",
    "lost": "bold red",
}


def render_status(
    view: RunStatusView, console: Console | None = None, *, redraw: bool = False
) -> None:
    """A header, the activity line, the stages table and the summary.

    ``redraw`` (``status --watch``) clears a terminal first, so each state replaces the last.
    """
    console = console or Console()
    if redraw and console.is_terminal:
        console.clear()
    manifest = view.manifest
    activity: dict[str, Any] = view.activity
    state = "lost" if view.lost else recorded_status(view.raw)
    header = Text.assemble(
        ("run ", "bold"),
        (manifest.run_id, "bold"),
        f"  task {manifest.task_id}  pipeline {manifest.pipeline_id}  ",
        (state, _STYLE.get(state, "red bold")),
    )
    if manifest.status_detail:
        header.append(f" ({manifest.status_detail})")
    console.print(header)
    age = activity.get("heartbeat_age_seconds")
    alive = "alive" if activity.get("runner_alive") else "not running"
    console.print(
        f"started {manifest.started_at or 'unknown'}  completed {manifest.completed_at or '-'}"
    )
    console.print(
        f"heartbeat {activity.get('heartbeat_at') or 'unknown'}"
        + (f" ({age:.0f}s ago)" if isinstance(age, int | float) else "")
        + f"  runner pid {activity.get('runner_pid') or 'unknown'} {alive}"
    )
    table = Table(show_edge=False, pad_edge=False)
    for column in ("#", "stage", "status", "exit", "time", "summary"):
        table.add_column(column, overflow="fold")
    for record in manifest.commands:
        status = str(record.status)
        duration = f"{record.duration_ms / 1000:.2f}s" if record.duration_ms is not None else ""
        exit_text = str(record.exit_code) if record.exit_code is not None else (record.signal or "")
        table.add_row(
            str(record.index),
            record.id,
            Text(status, _STYLE.get(status, "")),
            exit_text,
            duration,
            (record.summary or "").splitlines()[0] if record.summary else "",
        )
    if manifest.commands:
        console.print(table)
    if manifest.summary:
        console.print(manifest.summary)
    if view.lost:
        for process in activity.get("leftover_processes") or ():
            console.print(
                Text(
                    f"still running from stage {process['stage']}: pid {process['pid']} "
                    f"{process['name']} (resume ends it first)",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        console.print(
            Text(
                "The runner is gone but the run is not finished. Resume it with:\n  "
                + str(activity.get("resume_command")),
                style="yellow",
            ),
            # Never wrapped: the command must survive copy and paste whole.
            soft_wrap=True,
        )
    elif activity.get("stale"):
        console.print(Text("No heartbeat for over 30 s.", style="yellow"))
