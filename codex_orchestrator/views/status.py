"""The status of one run: its manifest plus whether its runner is alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codex_orchestrator.engine.liveness import runner_alive
from codex_orchestrator.errors import ManifestUnreadable, OrchestratorError
from codex_orchestrator.model import (
    HEARTBEAT_STALE_AFTER_SECONDS,
    RunManifest,
    RunStatus,
    parse_iso,
)
from codex_orchestrator.store.catalog import RunRef, latest_run, list_runs, locate_run
from codex_orchestrator.store.layout import RunsLayout, heartbeat_beside, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRequest:
    """Which run to show."""

    root: Path
    run_id: str | None
    latest: bool
    task: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStatusView:
    """A run's manifest and its runner's activity."""

    ref: RunRef
    manifest: RunManifest
    raw: dict[str, Any]
    activity: dict[str, Any]
    manifest_path: str

    @property
    def terminal(self) -> bool:
        """Whether the run has finished."""
        return self.manifest.status.terminal

    @property
    def lost(self) -> bool:
        """In progress on paper, but its runner is gone."""
        return bool(self.activity["lost"])

    def document(self) -> dict[str, Any]:
        """The JSON document ``status --format json`` prints."""
        return {**self.raw, "manifest_path": self.manifest_path, "activity": self.activity}


LATEST_LOOKBACK = 50


def locate(request: StatusRequest, layout: RunsLayout) -> RunRef:
    """The run the request names: ``--run ID`` (in ``--task`` or any task) or ``--latest``.

    ``--latest`` means the newest run a person started: child runs of subpipelines
    start after their parent, so the newest run without a parent wins (among the last
    few; failing that, the newest run of all).
    """
    if request.run_id is not None:
        task = resolve_task_id(request.task) if request.task is not None else None
        return locate_run(layout, request.run_id, task)
    task_id = resolve_task_id(request.task)
    refs = list_runs(layout, task_id)
    for ref in refs[:LATEST_LOOKBACK]:
        try:
            parent = read_manifest_dict(ref.manifest_path).get("parent_run_id")
        except OrchestratorError:
            continue
        if not parent:
            return ref
    return latest_run(layout, task_id)


def read_status(ref: RunRef, layout: RunsLayout) -> RunStatusView:
    """Read the manifest and judge the runner's liveness (RunNotFound / ManifestUnreadable)."""
    from codex_orchestrator.model.check import present_field_problem
    from codex_orchestrator.store.journal import merge_journal

    raw = read_manifest_dict(ref.manifest_path)
    problem = present_field_problem(raw)
    if problem is not None:
        raise ManifestUnreadable(f"{ref.manifest_path} is not a valid manifest: {problem}")
    # Never behind what the log proves: the journal's newer events over the manifest.
    raw = merge_journal(raw, ref.manifest_path.parent)
    manifest = RunManifest.from_dict(raw)
    heartbeat_at = _newest_heartbeat(manifest, heartbeat_beside(ref.manifest_path))
    moment = parse_iso(heartbeat_at)
    age = (datetime.now(UTC) - moment).total_seconds() if moment else None
    stale_after = manifest.heartbeat_stale_after_seconds or HEARTBEAT_STALE_AFTER_SECONDS
    in_progress = manifest.status in (RunStatus.IN_PROGRESS, RunStatus.QUEUED)
    alive = runner_alive(manifest.runner_pid, manifest.runner_create_time)
    lost = in_progress and not alive
    activity: dict[str, Any] = {
        "heartbeat_at": heartbeat_at,
        "heartbeat_age_seconds": round(age, 3) if age is not None else None,
        "stale": bool(in_progress and (age is None or age > stale_after)),
        "runner_pid": manifest.runner_pid,
        "runner_alive": alive,
        "lost": lost,
        "leftover_processes": _leftovers(manifest, ref.manifest_path.parent) if lost else [],
        "resume_command": (
            f"codex-orchestrator resume --run {manifest.run_id} --task {ref.task_id}"
            if lost or manifest.status in (RunStatus.FAILED, RunStatus.CANCELLED)
            else None
        ),
    }
    return RunStatusView(
        ref=ref,
        manifest=manifest,
        raw=raw,
        activity=activity,
        manifest_path=layout.relative(ref.manifest_path),
    )


def _leftovers(manifest: RunManifest, run_dir: Path) -> list[dict[str, Any]]:
    """What a lost run's stages left running (``resume`` ends them first)."""
    from codex_orchestrator.engine.leftovers import describe, recorded_sessions

    return [
        {**process, "stage": stage_id}
        for stage_id, session in recorded_sessions(manifest, run_dir)
        for process in describe(session)
    ]


def _newest_heartbeat(manifest: RunManifest, heartbeat_file: Path) -> str | None:
    """The later of the manifest's ``heartbeat_at`` and the ``.heartbeat`` file."""
    try:
        from_file = heartbeat_file.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        from_file = None
    candidates = [t for t in (manifest.heartbeat_at, from_file) if parse_iso(t) is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda t: parse_iso(t) or datetime.min.replace(tzinfo=UTC))
