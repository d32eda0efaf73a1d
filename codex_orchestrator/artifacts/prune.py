"""``artifacts prune``: remove kept files by age, count and size; never a run's evidence.

A pruned run keeps its manifest, logs, errors and its artifacts' ``metadata.json``,
``summary.md`` and ``index.json``; its ``instances/`` (and pack) go, the manifest
records ``artifacts_pruned_at``, and objects nothing links to any more are removed.
A run whose lock another process holds (a run in progress, a resume) is left alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from filelock import FileLock, Timeout

from codex_orchestrator.artifacts.collect import remove_tree
from codex_orchestrator.artifacts.instances import JSON_OPTIONS, read_json
from codex_orchestrator.artifacts.objects import ObjectStore
from codex_orchestrator.artifacts.runs import PRUNED_AT_KEY, RunArtifacts, open_ref
from codex_orchestrator.errors import LockTimeout, OrchestratorError
from codex_orchestrator.model import now_iso, parse_iso
from codex_orchestrator.model.artifacts import Retention
from codex_orchestrator.store.catalog import SOURCE_CLI, list_runs
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import RunsLayout
from codex_orchestrator.store.manifest import record_extra_fields

LOCK_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneCandidate:
    """A run with kept files."""

    run: RunArtifacts
    age_days: float
    size: int
    # The top-level run of its tree: a subpipeline's child run goes with its parent.
    root: str


def _root(run_id: str, parents: dict[str, str | None]) -> str:
    """The top of ``run_id``'s tree, through parents still running or still kept."""
    seen = {run_id}
    while (parent := parents.get(run_id)) is not None and parent in parents and parent not in seen:
        run_id = parent
        seen.add(run_id)
    return run_id


def candidates(layout: RunsLayout) -> list[PruneCandidate]:
    """Runs with kept files not yet pruned and not live, newest first."""
    now = datetime.now(UTC)
    found = []
    parents: dict[str, str | None] = {}
    for ref in list_runs(layout, None):
        with contextlib.suppress(OrchestratorError):
            run = open_ref(layout, ref)
            if run.live:  # its children wait for it
                parents[ref.run_id] = run.manifest.parent_run_id
            if run.pruned_at or run.live or not run.paths.metadata.is_file():
                continue
            if not (run.paths.instances_dir.exists() or run.packed):
                continue
            moment = parse_iso(run.manifest.completed_at) or parse_iso(run.manifest.started_at)
            age = (now - moment).total_seconds() / 86400 if moment else 0.0
            found.append(PruneCandidate(run=run, age_days=age, size=kept_size(run), root=""))
            parents[ref.run_id] = run.manifest.parent_run_id
    return [dataclasses.replace(c, root=_root(c.run.ref.run_id, parents)) for c in found]


def kept_size(run: RunArtifacts) -> int:
    """Bytes the run's kept files account for (its pack's size once packed)."""
    if run.packed:
        return run.paths.pack.stat().st_size
    metadata = read_json(run.paths.metadata)
    totals = metadata.get("totals") if isinstance(metadata, dict) else None
    return int(totals.get("bytes") or 0) if isinstance(totals, dict) else 0


def select(found: list[PruneCandidate], retention: Retention) -> list[PruneCandidate]:
    """The runs the rules remove: older than ``days``, beyond ``keep_last``, over ``max_size``.

    The rules count top-level runs (a parent's kept tree holds its children's files);
    a child run goes when its top-level run goes, never alone: not while its parent runs.
    """
    chosen = _choose([c for c in found if c.root == c.run.ref.run_id], retention)
    return [c for c in found if c.root in chosen]


def _choose(found: list[PruneCandidate], retention: Retention) -> set[str]:
    chosen: dict[str, PruneCandidate] = {}
    if retention.days is not None:
        chosen |= {c.run.ref.run_id: c for c in found if c.age_days > retention.days}
    if retention.keep_last is not None:
        per_task: dict[str, int] = {}
        for c in found:
            per_task[c.run.ref.task_id] = per_task.get(c.run.ref.task_id, 0) + 1
            if per_task[c.run.ref.task_id] > retention.keep_last:
                chosen[c.run.ref.run_id] = c
    if retention.max_size is not None:
        total = sum(c.size for c in found if c.run.ref.run_id not in chosen)
        for c in reversed(found):  # oldest first
            if total <= retention.max_size:
                break
            if c.run.ref.run_id not in chosen:
                chosen[c.run.ref.run_id] = c
                total -= c.size
    return set(chosen)


@contextlib.contextmanager
def prune_lock(layout: RunsLayout) -> Iterator[None]:
    """One pruner or packer at a time."""
    path = layout.prune_lock()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(path, timeout=LOCK_TIMEOUT_SECONDS):
            yield
    except Timeout as exc:
        raise LockTimeout(f"another process holds {path}") from exc


@contextlib.contextmanager
def run_unlocked(run: RunArtifacts) -> Iterator[bool]:
    """Hold the run's own lock meanwhile; False when another process holds it."""
    if run.ref.source != SOURCE_CLI:
        yield True
        return
    lock = FileLock(run.ref.manifest_path.with_name(".run.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def prune(
    layout: RunsLayout,
    retention: Retention,
    *,
    dry_run: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Apply ``retention``; what was (or, dry, would be) removed."""
    with prune_lock(layout):
        found = candidates(layout)
        pruned, skipped = [], []
        stores: dict[str, ObjectStore] = {}
        # Excluded runs (the run just made) count towards keep-last and size, never go.
        for c in select(found, retention):
            if c.run.ref.run_id in exclude or c.root in exclude:
                continue
            stores[str(c.run.store.directory)] = c.run.store
            entry = {"run_id": c.run.ref.run_id, "task_id": c.run.ref.task_id, "bytes": c.size}
            if dry_run:
                pruned.append(entry)
                continue
            with run_unlocked(c.run) as free:
                if not free:
                    skipped.append({**entry, "reason": "run is locked by another process"})
                    continue
                prune_run(c.run)
                pruned.append(entry)
        if not stores:
            stores[str(layout.objects_dir())] = ObjectStore(layout.objects_dir())
        objects = freed = 0
        for store in stores.values():
            count, size = store.collect_garbage(dry_run=dry_run)
            objects, freed = objects + count, freed + size
    return {
        "dry_run": dry_run,
        "pruned": pruned,
        "skipped": skipped,
        "objects_removed": objects,
        "bytes_freed": freed,
    }


def prune_run(run: RunArtifacts) -> None:
    """Remove one run's kept files; record when in its metadata and manifest."""
    from codex_orchestrator.artifacts.search import forget_run

    stamp = now_iso()
    remove_tree(run.paths.instances_dir)
    remove_tree(run.paths.staging_dir)  # a killed runner's skeletons, if any
    with contextlib.suppress(FileNotFoundError):
        os.unlink(run.paths.pack)
    metadata = read_json(run.paths.metadata)
    if isinstance(metadata, dict):
        import orjson

        metadata["pruned_at"] = stamp
        atomic_write(run.paths.metadata, orjson.dumps(metadata, option=JSON_OPTIONS))
    if run.ref.source == SOURCE_CLI:
        record_extra_fields(run.ref.manifest_path, {PRUNED_AT_KEY: stamp})
    with contextlib.suppress(OrchestratorError, OSError):
        forget_run(run.layout, run.ref.run_id)
