"""The list of runs: status, pipeline, start time and duration, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import RunManifest, parse_iso
from codex_orchestrator.store.catalog import list_runs
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict


@dataclass(frozen=True, slots=True, kw_only=True)
class RunsRequest:
    """Which runs to list."""

    root: Path
    task: str | None
    all_tasks: bool


def recorded_status(raw: dict[str, Any]) -> str:
    """The status a manifest records, or ``unknown`` (early legacy manifests have none)."""
    status = raw.get("status")
    return status if isinstance(status, str) and status else "unknown"


def list_run_rows(request: RunsRequest) -> list[dict[str, Any]]:
    """One row per run; an unreadable manifest is listed with status ``unreadable``."""
    layout = RunsLayout.for_root(request.root)
    task = None if request.all_tasks else resolve_task_id(request.task)
    rows = []
    for ref in list_runs(layout, task):
        row: dict[str, Any] = {
            "run_id": ref.run_id,
            "task_id": ref.task_id,
            "manifest": layout.relative(ref.manifest_path),
            "source": ref.source,
        }
        try:
            raw = read_manifest_dict(ref.manifest_path)
            manifest = RunManifest.from_dict(raw)
        except OrchestratorError as exc:
            row.update(
                status="unreadable",
                pipeline_id=None,
                started_at=None,
                completed_at=None,
                duration_seconds=None,
                error=exc.message,
            )
            rows.append(row)
            continue
        started, completed = parse_iso(manifest.started_at), parse_iso(manifest.completed_at)
        row.update(
            status=recorded_status(raw),
            pipeline_id=manifest.pipeline_id,
            parent_run_id=manifest.parent_run_id,
            started_at=manifest.started_at or None,
            completed_at=manifest.completed_at,
            duration_seconds=round((completed - started).total_seconds(), 3)
            if started and completed
            else None,
        )
        rows.append(row)
    return rows
