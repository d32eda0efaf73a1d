"""Finding a run's kept artifacts: its manifest, its ``artifacts_path``, its object store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.objects import ObjectStore
from codex_orchestrator.engine.liveness import runner_alive
from codex_orchestrator.model import RunManifest, RunStatus
from codex_orchestrator.store.catalog import SOURCE_CLI, RunRef, locate_run
from codex_orchestrator.store.journal import merge_journal
from codex_orchestrator.store.layout import ArtifactPaths, RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict

ARTIFACTS_PATH_KEY = "artifacts_path"
PRUNED_AT_KEY = "artifacts_pruned_at"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunArtifacts:
    """One run and where its kept artifacts are."""

    layout: RunsLayout
    ref: RunRef
    raw: dict[str, Any]
    manifest: RunManifest
    paths: ArtifactPaths

    @property
    def store(self) -> ObjectStore:
        """The object store beside these artifacts (same filesystem, so links work)."""
        return ObjectStore(self.layout.objects_dir(moved_root_of(self.layout, self.paths)))

    @property
    def live(self) -> bool:
        """Whether a runner is still writing this run."""
        in_progress = self.manifest.status in (RunStatus.IN_PROGRESS, RunStatus.QUEUED)
        return in_progress and runner_alive(
            self.manifest.runner_pid, self.manifest.runner_create_time
        )

    @property
    def packed(self) -> bool:
        """Whether ``instances/`` is in ``artifacts.tar.zst``."""
        return self.paths.pack.is_file()

    @property
    def pruned_at(self) -> str | None:
        """When ``prune`` removed the kept files, if it did."""
        value = self.raw.get(PRUNED_AT_KEY)
        return value if isinstance(value, str) else None


def moved_root_of(layout: RunsLayout, paths: ArtifactPaths) -> Path | None:
    """The moved artifacts root a run's artifacts lie under (None: under ``.runs``)."""
    if paths.root.is_relative_to(layout.runs_dir):
        return None
    return paths.root.parent.parent


def confined(run: RunArtifacts, path: Path) -> bool:
    """Whether ``path``, links followed, lies in the run's artifact tree.

    That tree is under ``.runs`` (or the moved artifacts root), and only the names
    this layout gives are trusted: a link planted in it (an instance directory, a
    metadata file) that leads elsewhere is not followed.
    """
    moved = moved_root_of(run.layout, run.paths)
    base = Path(os.path.realpath(moved if moved is not None else run.layout.runs_dir))
    root = Path(os.path.realpath(run.paths.root))
    real = Path(os.path.realpath(path))
    return root.is_relative_to(base) and real.is_relative_to(root)


def artifact_paths(
    layout: RunsLayout, ref: RunRef, raw: dict[str, Any], configured_dir: str | None = None
) -> ArtifactPaths:
    """Where a run's artifacts are: as its manifest records, else the default place.

    A recorded path is trusted only when it is the place this layout would choose
    (the run's own directory, the moved root, or the store for foreign runs), so a
    crafted manifest cannot aim prune at other files.
    """
    candidates = [_default(layout, ref, layout.artifacts_root(configured_dir))]
    if ref.source == SOURCE_CLI:
        candidates.append(layout.run_artifacts(ref.task_id, ref.run_id, None))
    recorded = raw.get(ARTIFACTS_PATH_KEY)
    if isinstance(recorded, str) and recorded:
        where = layout.from_recorded(recorded).resolve()
        moved = where.parent.parent
        if layout.artifact_store(moved).is_dir():  # a root we made: it holds our store
            candidates.append(layout.run_artifacts(ref.task_id, ref.run_id, moved))
        for candidate in candidates:
            if candidate.root == where:
                return candidate
    return candidates[0]


def _default(layout: RunsLayout, ref: RunRef, moved: Path | None) -> ArtifactPaths:
    if moved is not None:
        return layout.run_artifacts(ref.task_id, ref.run_id, moved)
    if ref.source == SOURCE_CLI:
        return layout.run_artifacts(ref.task_id, ref.run_id, None)
    return layout.foreign_run_artifacts(ref.task_id, ref.run_id)


def open_ref(layout: RunsLayout, ref: RunRef, configured_dir: str | None = None) -> RunArtifacts:
    """A run's artifacts from its catalog entry (RunNotFound / ManifestUnreadable)."""
    # Never behind what the run's journal proves (store/journal.py).
    raw = merge_journal(read_manifest_dict(ref.manifest_path), ref.manifest_path.parent)
    return RunArtifacts(
        layout=layout,
        ref=ref,
        raw=raw,
        manifest=RunManifest.from_dict(raw),
        paths=artifact_paths(layout, ref, raw, configured_dir),
    )


def open_run(
    layout: RunsLayout, run_id: str, task: str | None = None, configured_dir: str | None = None
) -> RunArtifacts:
    """The run ``run_id`` (in ``task`` when given, else any task) and its artifacts."""
    task_id = resolve_task_id(task) if task is not None else None
    return open_ref(layout, locate_run(layout, run_id, task_id), configured_dir)
