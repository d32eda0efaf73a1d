"""The list of runs: status, pipeline, start time and duration, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.engine.liveness import runner_alive
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import RunManifest, RunStatus, parse_iso
from codex_orchestrator.store.catalog import list_runs
from codex_orchestrator.store.journal import merge_journal
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict


@dataclass(frozen=True, slots=True, kw_only=True)
class RunsRequest:
    """Which runs to list."""

    root: Path
    task: str | None
    all_tasks: bool
    status: str | None = None
    pipeline: str | None = None
    limit: int | None = None


def recorded_status(raw: dict[str, Any]) -> str:
    """The status a manifest records, or ``unknown`` (early legacy manifests have none)."""
    status = raw.get("status")
    return status if isinstance(status, str) and status else "unknown"


def list_run_rows(request: RunsRequest) -> list[dict[str, Any]]:
    """The rows the request selects, newest first, at most ``limit`` of them."""
    rows = []
    for row in _rows(request):
        if request.status is not None and row["status"] != request.status:
            continue
        if request.pipeline is not None and row["pipeline_id"] != request.pipeline:
            continue
        rows.append(row)
        if request.limit is not None and len(rows) >= request.limit:
            break
    return rows


def _rows(request: RunsRequest) -> Iterator[dict[str, Any]]:
    """One row per run; an unreadable manifest is listed with status ``unreadable``, an
    unfinished run whose runner is dead as ``lost`` (its recorded status beside it)."""
    layout = RunsLayout.for_root(request.root)
    task = None if request.all_tasks else resolve_task_id(request.task)
    for ref in list_runs(layout, task):
        row: dict[str, Any] = {
            "run_id": ref.run_id,
            "task_id": ref.task_id,
            "manifest": layout.relative(ref.manifest_path),
            "source": ref.source,
        }
        try:
            raw = read_manifest_dict(ref.manifest_path)
            if raw.get("status") == "in_progress":  # finished runs' manifests are final
                raw = merge_journal(raw, ref.manifest_path.parent)
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
            yield row
            continue
        started, completed = parse_iso(manifest.started_at), parse_iso(manifest.completed_at)
        recorded = recorded_status(raw)
        lost = manifest.status in (RunStatus.IN_PROGRESS, RunStatus.QUEUED) and not (
            runner_alive(manifest.runner_pid, manifest.runner_create_time)
        )
        row.update(
            status="lost" if lost else recorded,
            recorded_status=recorded,
            lost=lost,
            pipeline_id=manifest.pipeline_id,
            parent_run_id=manifest.parent_run_id,
            started_at=manifest.started_at or None,
            completed_at=manifest.completed_at,
            duration_seconds=round((completed - started).total_seconds(), 3)
            if started and completed
            else None,
        )
        yield row
