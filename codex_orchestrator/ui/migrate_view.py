"""What a migration did (or would do), as a table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_STYLE = {"migrated": "green", "planned": "cyan", "skipped": "dim", "error": "red"}


def render_migration(document: Mapping[str, Any], log_path: str, console: Console) -> None:
    """One row per run; then the counts and where the log is."""
    dry = bool(document.get("dry_run"))
    title = f"Migration of task {document['task_id']}" + (" (dry run)" if dry else "")
    runs = list(document.get("runs") or [])
    if runs:
        table = Table(title=title)
        table.add_column("run", no_wrap=True)
        table.add_column("status")
        table.add_column("from", overflow="fold")
        table.add_column("to", overflow="fold")
        table.add_column("what")
        for run in runs:
            status = str(run["status"])
            table.add_row(
                Text(str(run.get("run_id") or "-")),
                Text(status, style=_STYLE.get(status, "")),
                Text(str(run.get("source") or "-")),
                Text(str(run.get("destination") or "-")),
                Text(str(run.get("message") or "")),
            )
        console.print(table)
    else:
        console.print(f"{title}: nothing in an older layout", markup=False, highlight=False)
    counts = Counter(str(run["status"]) for run in runs)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    if summary:
        console.print(summary, markup=False, highlight=False)
    console.print(f"log written to {log_path}", markup=False, highlight=False)
