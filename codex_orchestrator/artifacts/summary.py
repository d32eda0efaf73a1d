"""``summary.md``: what ran, how it ended, failures with their last lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_orchestrator.model import RunManifest

TAIL_LINES = 10
FENCE = "`" * 3


def render_summary(
    manifest: RunManifest,
    instances: Sequence[dict[str, Any]],
    tails: Mapping[str, list[str]] | None = None,
) -> str:
    """Markdown a reviewer reads first."""
    lines = [
        f"# Run {manifest.run_id}",
        "",
        f"- Task: `{manifest.task_id}`",
        f"- Pipeline: `{manifest.pipeline_id}` ({manifest.pipeline_title})",
        f"- Status: **{manifest.status}**"
        + (f" ({manifest.status_detail})" if manifest.status_detail else ""),
        f"- Started: {manifest.started_at or 'unknown'}",
        f"- Completed: {manifest.completed_at or 'not completed'}",
        "",
        "## Stages",
        "",
        "| instance | status | exit | duration | files | bytes | partial |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in instances:
        duration = item.get("duration_ms")
        lines.append(
            f"| `{item.get('instance_id')}` | {item.get('status')} | "
            f"{_cell(item.get('exit_code'))} | "
            f"{f'{duration / 1000:.2f}s' if isinstance(duration, int) else '-'} | "
            f"{item.get('files', 0)} | {item.get('bytes', 0)} | "
            f"{'yes' if item.get('partial') else 'no'} |"
        )
    failures = [i for i in instances if i.get("status") == "failed" and i.get("role") == "command"]
    if failures:
        lines += ["", "## Failures", ""]
        for item in failures:
            lines += [f"### `{item.get('instance_id')}`", ""]
            record = _record(manifest, item)
            if record is not None and record.summary:
                lines += [record.summary, ""]
            tail = (tails or {}).get(str(item.get("instance_id")))
            if tail:
                lines += ["```", *tail, "```", ""]
    problems = [(i, e) for i in instances for e in i.get("errors") or []]
    if problems:
        lines += ["", "## Files not kept", ""]
        lines += [
            f"- `{i.get('instance_id')}`: `{e.get('path')}` ({e.get('kind')}): {e.get('message')}"
            for i, e in problems
        ]
    gates = manifest.extra.get("gates")
    if isinstance(gates, list) and gates:
        lines += ["", "## Gates", ""]
        lines += [
            f"- `{g.get('id')}`: {'fired' if g.get('fired') else 'not fired'} "
            f"({g.get('action')}){': ' + str(g.get('message')) if g.get('message') else ''}"
            for g in gates
            if isinstance(g, dict)
        ]
    if manifest.summary:
        lines += ["", "## Summary", "", *manifest.summary.splitlines()]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _record(manifest: RunManifest, item: dict[str, Any]) -> Any:
    for record in manifest.commands:
        if record.id == item.get("name") and item.get("run_id") == manifest.run_id:
            return record
    return None


def read_tail(path: Path, lines: int = TAIL_LINES, limit: int = 8192) -> list[str]:
    """The last lines of an ``output.log`` (at most ``limit`` bytes read)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, 2) - limit))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace").replace(FENCE, "` ` `")
    return [line for line in text.splitlines() if line.strip()][-lines:]
