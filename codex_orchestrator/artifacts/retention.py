"""``artifacts pack`` and the config's retention, applied after each run."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson

from codex_orchestrator.artifacts.collect import remove_tree
from codex_orchestrator.artifacts.instances import JSON_OPTIONS, read_json
from codex_orchestrator.artifacts.pack import pack_instances
from codex_orchestrator.artifacts.prune import candidates, prune, prune_lock, run_unlocked
from codex_orchestrator.artifacts.runs import RunArtifacts
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model.artifacts import Retention
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import RunsLayout


def pack_runs(
    layout: RunsLayout,
    older_than_days: float,
    *,
    dry_run: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Pack the kept files of every run older than ``older_than_days`` into its tar.zst."""
    packed, skipped = [], []
    with prune_lock(layout):
        for c in candidates(layout):
            if c.run.packed or c.age_days <= older_than_days or c.run.ref.run_id in exclude:
                continue
            entry: dict[str, Any] = {"run_id": c.run.ref.run_id, "task_id": c.run.ref.task_id}
            if dry_run:
                packed.append(entry)
                continue
            with run_unlocked(c.run) as free:
                if not free:
                    skipped.append({**entry, "reason": "run is locked by another process"})
                    continue
                entry["pack_bytes"] = pack_run(c.run)
                packed.append(entry)
    return {"dry_run": dry_run, "packed": packed, "skipped": skipped}


def pack_run(run: RunArtifacts) -> int:
    """Pack one run: the tar.zst is written and synced before ``instances/`` is removed."""
    size = pack_instances(run.paths)
    remove_tree(run.paths.instances_dir)
    metadata = read_json(run.paths.metadata)
    if isinstance(metadata, dict):
        metadata["packed"] = True
        atomic_write(run.paths.metadata, orjson.dumps(metadata, option=JSON_OPTIONS))
    return size


def apply_retention(layout: RunsLayout, retention: Retention, current_run: str) -> list[str]:
    """After a run: prune and pack as configured (never the run just made); warnings."""
    warnings = []
    exclude = frozenset({current_run})
    try:
        if retention.prunes:
            prune(layout, retention, exclude=exclude)
        if retention.compress_after_days is not None:
            pack_runs(layout, retention.compress_after_days, exclude=exclude)
    except (OrchestratorError, OSError) as exc:
        with contextlib.suppress(Exception):
            warnings.append(f"artifacts retention: {exc}")
    return warnings
