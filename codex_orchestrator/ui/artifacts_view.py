"""Tables for the ``artifacts`` commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _size(value: object) -> str:
    if not isinstance(value, int):
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(value)


def _table(*columns: str) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=column in ("run", "instance", "status", "mode", "size"))
    return table


def render_collect(document: Mapping[str, Any], console: Console | None = None) -> None:
    """The collect result: status, where, and one row per instance."""
    console = console or Console()
    console.print(
        f"{escape(str(document['team_session_id']))}: {document['status']} — "
        f"{document['instances_count']} instances in {escape(str(document['artifacts_path']))}"
    )
    metadata = document.get("metadata") or {}
    if metadata.get("instances"):
        render_instances(metadata["instances"], console)


def render_instances(instances: Sequence[Mapping[str, Any]], console: Console) -> None:
    """One row per instance."""
    table = _table("instance", "status", "exit", "files", "bytes", "partial")
    for item in instances:
        table.add_row(
            escape(str(item.get("instance_id"))),
            str(item.get("status")),
            "-" if item.get("exit_code") is None else str(item.get("exit_code")),
            str(item.get("files", 0)),
            _size(item.get("bytes")),
            "yes" if item.get("partial") else "",
        )
    console.print(table)


def render_list(rows: Sequence[Mapping[str, Any]], console: Console | None = None) -> None:
    """Runs with artifacts (the task column only when several tasks are listed)."""
    console = console or Console()
    if not rows:
        console.print("no collected artifacts")
        return
    show_task = len({row["task_id"] for row in rows}) > 1
    table = _table("run", *(["task"] if show_task else []), "status", "files", "size", "state")
    for row in rows:
        state = (
            "pruned"
            if row.get("pruned_at")
            else "packed"
            if row.get("packed")
            else "partial"
            if row.get("partial")
            else "kept"
        )
        table.add_row(
            str(row["run_id"]),
            *([escape(str(row["task_id"]))] if show_task else []),
            str(row["status"]),
            str(row.get("files", 0)),
            _size(row.get("bytes")),
            state,
        )
    console.print(table)


def render_show(document: Mapping[str, Any], console: Console | None = None) -> None:
    """A run's metadata: header, instances, totals."""
    console = console or Console()
    totals = document.get("totals") or {}
    console.print(
        f"run {escape(str(document.get('run_id')))} ({escape(str(document.get('pipeline_id')))}): "
        f"{document.get('status')}{' (partial)' if document.get('partial') else ''}"
    )
    console.print(f"artifacts: {escape(str(document.get('artifacts_path')))}")
    render_instances(document.get("instances") or [], console)
    console.print(
        f"{totals.get('instances', 0)} instances, {totals.get('files', 0)} files, "
        f"{_size(totals.get('bytes'))}, {totals.get('cpu_seconds', 0)} CPU s"
    )
    for item in document.get("instances") or []:
        for error in item.get("errors") or []:
            console.print(
                f"not kept: {escape(str(item.get('instance_id')))}/{escape(str(error.get('path')))}"
                f" ({error.get('kind')}): {escape(str(error.get('message')))}"
            )


def render_ls(rows: Sequence[Mapping[str, Any]], console: Console | None = None) -> None:
    """Kept files."""
    console = console or Console()
    if not rows:
        console.print("no kept files")
        return
    live = any(row.get("mode") == "live" for row in rows)
    columns = ["instance", "path", "size", "mode", "perm"] + (["modified"] if live else [])
    table = _table(*columns)
    for row in rows:
        path = str(row["path"]) + (f" -> {row['target']}" if row.get("target") else "")
        cells = [
            escape(str(row["instance"])),
            escape(path),
            _size(row.get("size")),
            str(row.get("mode")),
            str(row.get("permissions")),
        ]
        if live:
            cells.append(str(row.get("modified") or ""))
        table.add_row(*cells)
    console.print(table)


def render_prune(document: Mapping[str, Any], console: Console | None = None) -> None:
    """What prune removed (or would)."""
    console = console or Console()
    verb = "would prune" if document.get("dry_run") else "pruned"
    for row in document.get("pruned") or []:
        console.print(
            f"{verb} {row['run_id']} ({escape(str(row['task_id']))}, {_size(row['bytes'])})"
        )
    for row in document.get("skipped") or []:
        console.print(f"skipped {row['run_id']}: {row['reason']}")
    console.print(
        f"{len(document.get('pruned') or [])} runs; {document.get('objects_removed', 0)} objects, "
        f"{_size(document.get('bytes_freed'))} freed"
    )


def render_pack(document: Mapping[str, Any], console: Console | None = None) -> None:
    """What pack packed (or would)."""
    console = console or Console()
    verb = "would pack" if document.get("dry_run") else "packed"
    for row in document.get("packed") or []:
        size = f", {_size(row['pack_bytes'])}" if "pack_bytes" in row else ""
        console.print(f"{verb} {row['run_id']} ({escape(str(row['task_id']))}{size})")
    for row in document.get("skipped") or []:
        console.print(f"skipped {row['run_id']}: {row['reason']}")
    console.print(f"{len(document.get('packed') or [])} runs")


def render_search(hits: Sequence[Mapping[str, Any]], console: Console | None = None) -> None:
    """Search hits."""
    console = console or Console()
    if not hits:
        console.print("no matches")
        return
    table = _table("run", "instance", "where", "snippet")
    for hit in hits:
        table.add_row(
            str(hit["run_id"]),
            escape(str(hit["instance"])),
            escape(f"{hit['path']}:{hit['line']}"),
            escape(str(hit["snippet"])),
        )
    console.print(table)
