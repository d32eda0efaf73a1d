"""Collecting a run: ``metadata.json``, ``summary.md`` and ``index.json`` for its tree.

Collect runs at the end of every run and on demand (``artifacts collect``) for any run,
also one from before artifacts were kept, a lost one, or a migrated legacy one: an
instance nobody kept is rebuilt from the manifest's command record and the command's
log. A subpipeline stage holds its child run's instances below its own, linked (not
copied) from the child's collected tree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from codex_orchestrator.artifacts.instances import (
    JSON_OPTIONS,
    instance_metadata,
    read_json,
    read_kept,
    write_instance,
)
from codex_orchestrator.artifacts.keep import keep_stage
from codex_orchestrator.artifacts.rebuild import command_log_of, rebuild_output_log
from codex_orchestrator.artifacts.records import (
    ARTIFACTS_VERSION,
    CollectResult,
    KeepResult,
    KeptFile,
)
from codex_orchestrator.artifacts.runs import RunArtifacts, open_ref
from codex_orchestrator.artifacts.summary import read_tail, render_summary
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import CommandRecord, CommandStatus, StageKind, now_iso
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import InstancePaths


@dataclass(slots=True)
class _Tree:
    instances: list[dict[str, Any]] = field(default_factory=list)
    files: list[KeptFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def collect(
    run: RunArtifacts,
    *,
    search: Literal["now", "next-search", "no"] = "now",
    known: Mapping[str, tuple[KeepResult, dict[str, Any]]] | None = None,
) -> CollectResult:
    """Rebuild a run's ``metadata.json``, ``summary.md`` and ``index.json``.

    ``search``: index the run for full-text search at once, note it for the next search
    (the run-end collect), or not at all (a child run: its parent's index covers it).
    ``known``: what the runner itself kept and wrote per instance id during the run
    (the run-end collect), so those instances are not read back from disk.
    """
    tree = _Tree()
    paths = run.paths
    paths.root.mkdir(parents=True, exist_ok=True)
    run.store.directory.mkdir(parents=True, exist_ok=True)
    if run.packed:
        _read_collected(run, tree)
    else:
        for record in run.manifest.commands:
            if record.status is CommandStatus.PENDING and record.started_at is None:
                continue  # never ran (blocked, or after a failure): no instance
            instance = paths.instance(_stem(record))
            memo = known.get(instance.instance_id) if known else None
            _collect_instance(run, record, instance, None, tree, memo)
    metadata = run_metadata(run, tree)
    atomic_write(paths.index, orjson.dumps(_index(run, tree), option=JSON_OPTIONS))
    tails = {
        str(i["instance_id"]): read_tail(paths.instance_by_id(str(i["instance_id"])).output_log)
        for i in tree.instances
        if i.get("status") == "failed" and i.get("role") == str(StageKind.COMMAND)
    }
    atomic_write(paths.summary, render_summary(run.manifest, tree.instances, tails).encode())
    atomic_write(paths.metadata, orjson.dumps(metadata, option=JSON_OPTIONS))
    if search != "no":
        with contextlib.suppress(OSError, OrchestratorError):
            if search == "next-search":
                from codex_orchestrator.artifacts.search_pending import defer_index

                defer_index(run)
            else:
                from codex_orchestrator.artifacts.search import index_run

                index_run(run, tree.instances, tree.files)
    relative = run.layout.relative(paths.root)
    if not tree.instances:
        return CollectResult(
            status="error",
            team_session_id=run.ref.run_id,
            artifacts_path=relative,
            instances_count=0,
            metadata=metadata,
            error=f"run {run.ref.run_id} has no stage instances to collect",
        )
    return CollectResult(
        status="partial" if metadata["partial"] else "success",
        team_session_id=run.ref.run_id,
        artifacts_path=relative,
        instances_count=len(tree.instances),
        metadata=metadata,
        warnings=tuple(tree.warnings),
    )


def _read_collected(run: RunArtifacts, tree: _Tree) -> None:
    """A packed run: its instances and files as the last collect recorded them."""
    metadata = read_json(run.paths.metadata)
    index = read_json(run.paths.index)
    if isinstance(metadata, dict):
        tree.instances.extend(i for i in metadata.get("instances") or [] if isinstance(i, dict))
    if isinstance(index, dict):
        tree.files.extend(
            KeptFile.from_dict(row) for row in index.get("files") or [] if isinstance(row, dict)
        )


def _stem(record: CommandRecord) -> str:
    from codex_orchestrator.store.layout import command_file_stem

    return command_file_stem(record.index, record.id)


def _collect_instance(
    run: RunArtifacts,
    record: CommandRecord,
    instance: InstancePaths,
    parent_id: str | None,
    tree: _Tree,
    memo: tuple[KeepResult, dict[str, Any]] | None = None,
) -> None:
    kept = memo[0] if memo is not None else read_kept(instance)
    if kept is None:
        kept = _keep_leftovers(run, record, instance)
    metadata = instance_metadata(instance, record, kept, parent_id, run.manifest.run_id)
    unchanged = memo is not None and memo[1] == metadata  # as written when the stage ended
    if not (unchanged or (run.live and record.status is CommandStatus.RUNNING)):
        write_instance(instance, metadata, kept)  # a running stage's instance is its own
    tree.instances.append(metadata)
    tree.files.extend(kept.files)
    if record.kind is StageKind.SUBPIPELINE and record.sub_run_id:
        _collect_child(run, record.sub_run_id, instance, tree)


def _keep_leftovers(
    run: RunArtifacts, record: CommandRecord, instance: InstancePaths
) -> KeepResult:
    """An instance nothing kept: a lost run's workspace, an old run's log, or nothing."""
    if run.live:
        return KeepResult()
    kept = KeepResult()
    if instance.workspace.is_dir():
        kept = keep_stage(run.store, instance.instance_id, instance.workspace, instance.workspace)
    if record.kind is StageKind.COMMAND and not instance.output_log.exists():
        source = command_log_of(run.layout, run.ref.manifest_path, record)
        with contextlib.suppress(OSError):
            rebuild_output_log(source, instance.output_log)
    return kept


def _collect_child(run: RunArtifacts, child_id: str, instance: InstancePaths, tree: _Tree) -> None:
    """Collect the child run, then link its instances below the subpipeline instance."""
    try:
        child = open_ref(run.layout, locate_run(run.layout, child_id, run.ref.task_id))
    except OrchestratorError as exc:
        tree.warnings.append(f"child run {child_id}: {exc.message}")
        return
    child_metadata = read_json(child.paths.metadata)
    if child.live or not isinstance(child_metadata, dict):
        collect(child, search="no")
        child_metadata = read_json(child.paths.metadata)
    if not isinstance(child_metadata, dict):
        return
    if not child.packed:
        mirror_tree(child.paths.instances_dir, instance.dir / "instances")
    prefix = instance.instance_id
    for entry in child_metadata.get("instances") or []:
        if not isinstance(entry, dict):
            continue
        moved = dict(entry)
        moved["instance_id"] = f"{prefix}/{entry.get('instance_id')}"
        parent = entry.get("parent_instance_id")
        moved["parent_instance_id"] = f"{prefix}/{parent}" if parent else prefix
        tree.instances.append(moved)
        with contextlib.suppress(OSError):
            atomic_write(
                instance.dir / "instances" / str(entry.get("instance_id")) / "metadata.json",
                orjson.dumps(moved, option=JSON_OPTIONS),
            )
    child_index = read_json(child.paths.index)
    rows = child_index.get("files", []) if isinstance(child_index, dict) else []
    for row in rows:
        if isinstance(row, dict):
            tree.files.append(KeptFile.from_dict(row, f"{prefix}/{row.get('instance')}"))


def mirror_tree(source: Path, destination: Path) -> None:
    """Rebuild ``destination`` as hard links of ``source`` (links kept; copies where needed)."""
    if destination.exists():
        remove_tree(destination)
    if not source.is_dir():
        return
    for directory, dirnames, filenames in os.walk(source):
        rel = Path(directory).relative_to(source)
        target_dir = destination / rel
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in [*filenames, *(d for d in dirnames if (Path(directory) / d).is_symlink())]:
            src, dst = Path(directory) / name, target_dir / name
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def remove_tree(path: Path) -> None:
    """Remove a kept tree (its directories may have lost their write bit)."""

    for directory, _, _ in os.walk(path):
        with contextlib.suppress(OSError):
            if not os.path.islink(directory):
                os.chmod(directory, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


def run_metadata(run: RunArtifacts, tree: _Tree) -> dict[str, Any]:
    """The run's ``metadata.json``: identity, outcome, flattened instances, totals."""
    manifest = run.manifest
    # A subpipeline instance's resources are its child's totals: count the stages only.
    stages = [i for i in tree.instances if i.get("role") != str(StageKind.SUBPIPELINE)]
    cpu = sum(float((i.get("resources") or {}).get("cpu_seconds") or 0) for i in stages)
    rss = max([int((i.get("resources") or {}).get("peak_rss_bytes") or 0) for i in stages] or [0])
    return {
        "version": ARTIFACTS_VERSION,
        "run_id": manifest.run_id,
        "task_id": run.ref.task_id,
        "pipeline_id": manifest.pipeline_id,
        "parent_run_id": manifest.parent_run_id,
        "created_at": manifest.started_at or None,
        "completed_at": manifest.completed_at,
        "status": str(manifest.status),
        "partial": any(bool(i.get("partial")) for i in tree.instances),
        "artifacts_path": run.layout.relative(run.paths.root),
        "collected_at": now_iso(),
        "packed": run.packed,
        "pruned_at": run.pruned_at,
        "instances": tree.instances,
        "totals": {
            "instances": len(tree.instances),
            "files": len(tree.files),
            "bytes": sum(f.size for f in tree.files if f.sha256 is not None),
            "cpu_seconds": round(cpu, 3),
            "peak_rss_bytes": rss,
        },
    }


def _index(run: RunArtifacts, tree: _Tree) -> dict[str, Any]:
    return {
        "version": ARTIFACTS_VERSION,
        "run_id": run.manifest.run_id,
        "task_id": run.ref.task_id,
        "files": [entry.to_dict() for entry in tree.files],
    }
