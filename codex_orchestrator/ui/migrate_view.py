"""What a migration did (or would do), as a table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

_STYLE = {"migrated": "green", "planned": "cyan", "skipped": "dim", "error": "red"}


def render_migration(
    document: Mapping[str, Any], log_path: str | None, console: Console | None = None
) -> None:
    """One row per run; then the counts and where the log is."""
    console = console or Console()
    dry = bool(document.get("dry_run"))
    title = f"Migration of task {document['task_id']}" + (" (dry run)" if dry else "")
    runs = list(document.get("runs") or [])
    if runs:
        # Two columns that must stay whole, and one that folds: the paths and the
        # reason read fine on an 80-column terminal or CI log.
        table = Table(title=title, box=box.SIMPLE_HEAD, show_lines=False)
        table.add_column("status", no_wrap=True)
        table.add_column("run", no_wrap=True)
        table.add_column("what", overflow="fold")
        for run in runs:
            status = str(run["status"])
            run_id = str(run.get("run_id") or "")
            source = _where(run.get("source"), run_id)
            destination = _where(run.get("destination"), run_id)
            moves = f"{source} -> {destination}" if source and destination else source
            table.add_row(
                Text(status, style=_STYLE.get(status, "")),
                Text(str(run.get("run_id") or "-")),
                Text(f"{run.get('message') or ''}\n{moves}".strip()),
            )
        console.print(table)
    else:
        console.print(f"{title}: nothing in an older layout", markup=False, highlight=False)
    counts = Counter(str(run["status"]) for run in runs)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    if summary:
        console.print(summary, markup=False, highlight=False)
    if log_path is None:
        console.print("no log written: the task has nothing under .runs", highlight=False)
    else:
        console.print(f"log written to {log_path}", markup=False, highlight=False)


def _where(path: object, run_id: str) -> str:
    """A run's directory without its run id (shown in its own column): ``.runs/t/mcp/``."""
    text = str(path or "")
    if run_id and text.endswith("/" + run_id):
        return text[: -len(run_id)]
    return text
