"""``.runs/<task>/metrics.json``: one JSON line per run reaching a terminal state."""

from __future__ import annotations

from pathlib import Path

import orjson

from codex_orchestrator.model import CommandStatus, RunManifest, now_iso, parse_iso
from codex_orchestrator.store.fsutil import append_line_locked


def metrics_entry(manifest: RunManifest, guardrails_present: bool) -> dict[str, object]:
    """The metrics line for a finished run, with the fields DESIGN.md lists."""
    started = parse_iso(manifest.started_at)
    completed = parse_iso(manifest.completed_at)
    duration = (completed - started).total_seconds() if started and completed else None
    statuses = [record.status for record in manifest.commands]
    return {
        "run_id": manifest.run_id,
        "task_id": manifest.task_id,
        "pipeline_id": manifest.pipeline_id,
        "parent_run_id": manifest.parent_run_id,
        "started_at": manifest.started_at,
        "completed_at": manifest.completed_at,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "status": str(manifest.status),
        "commands_passed": statuses.count(CommandStatus.SUCCEEDED),
        "commands_failed": statuses.count(CommandStatus.FAILED),
        "commands_skipped": statuses.count(CommandStatus.SKIPPED),
        "guardrails_present": guardrails_present,
        "child_runs": len(manifest.child_runs),
        "artifact_path": manifest.artifact_root,
        "recorded_at": now_iso(),
        "resources": manifest.resources.to_dict() if manifest.resources else None,
    }


def append_metrics(path: Path, entry: dict[str, object]) -> None:
    """Append one metrics line under the file's lock."""
    append_line_locked(path, orjson.dumps(entry))
