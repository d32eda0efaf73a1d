"""Reading kept artifacts: ``list``, ``show``, ``ls`` and ``get`` (also for the server).

Every function takes a ``RunsLayout`` and returns plain data or streams bytes; none
writes anything.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.instances import read_json
from codex_orchestrator.artifacts.keep import scan_tree
from codex_orchestrator.artifacts.records import FileMode, KeptFile
from codex_orchestrator.artifacts.runs import RunArtifacts, confined, open_ref
from codex_orchestrator.errors import InvalidInput, OrchestratorError, RunNotFound
from codex_orchestrator.store.catalog import list_runs as catalog_runs
from codex_orchestrator.store.layout import RunsLayout, validate_task_id

CHUNK = 1 << 20


def list_runs(layout: RunsLayout, task: str | None = None) -> list[dict[str, Any]]:
    """Runs that have collected artifacts, newest first (``task`` None: every task)."""
    rows = []
    for ref in catalog_runs(layout, validate_task_id(task) if task else None):
        try:
            run = open_ref(layout, ref)
        except OrchestratorError:
            continue
        metadata = read_json(run.paths.metadata)
        if not isinstance(metadata, dict):
            continue
        totals = metadata.get("totals") or {}
        rows.append(
            {
                "run_id": ref.run_id,
                "task_id": ref.task_id,
                "pipeline_id": run.manifest.pipeline_id,
                "status": str(run.manifest.status),
                "partial": bool(metadata.get("partial")),
                "instances": totals.get("instances", 0),
                "files": totals.get("files", 0),
                "bytes": totals.get("bytes", 0),
                "packed": run.packed,
                "pruned_at": run.pruned_at,
                "created_at": metadata.get("created_at"),
                "artifacts_path": layout.relative(run.paths.root),
            }
        )
    return rows


def show(run: RunArtifacts) -> dict[str, Any]:
    """The run's ``metadata.json`` plus where its files are (RunNotFound if never collected)."""
    metadata = read_json(run.paths.metadata)
    if not isinstance(metadata, dict):
        raise RunNotFound(
            f"run {run.ref.run_id} has no collected artifacts "
            f"(run 'codex-orchestrator artifacts collect --run {run.ref.run_id}')"
        )
    metadata["artifacts_path"] = run.layout.relative(run.paths.root)
    metadata["summary_path"] = run.layout.relative(run.paths.summary)
    metadata["packed"] = run.packed
    metadata["pruned_at"] = run.pruned_at
    return metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedFile:
    """One row of ``artifacts ls``."""

    entry: KeptFile
    mode: FileMode
    modified: str | None = None  # a live file's modification time

    def to_dict(self) -> dict[str, Any]:
        """As ``--format json`` prints it."""
        data = {**self.entry.to_dict(), "mode": str(self.mode)}
        if self.mode is FileMode.LIVE:
            data["modified"] = self.modified
        return data


def ls(run: RunArtifacts, instance: str | None = None) -> list[ListedFile]:
    """Kept files (``archived``) and, while the run lives, its workspaces (``live``)."""
    if instance is not None:
        run.paths.instance_by_id(instance)  # validates the id
    index = read_json(run.paths.index)
    rows = index.get("files", []) if isinstance(index, dict) else []
    kept = [KeptFile.from_dict(row) for row in rows if isinstance(row, dict)]
    listed = [
        ListedFile(entry=e, mode=FileMode.SEALED if e.sealed else FileMode.ARCHIVED) for e in kept
    ]
    known = {(e.instance, e.path) for e in kept}
    if run.live or not isinstance(index, dict):
        listed += [
            ListedFile(entry=entry, mode=FileMode.LIVE, modified=_modified(run, entry))
            for entry in _live_entries(run)
            if (entry.instance, entry.path) not in known
        ]
    if instance is not None:
        listed = [
            item
            for item in listed
            if item.entry.instance == instance or item.entry.instance.startswith(instance + "/")
        ]
    return listed


def _modified(run: RunArtifacts, entry: KeptFile) -> str | None:
    """When a live file last changed (ISO-8601 UTC), None if it is gone already."""
    from datetime import UTC, datetime

    from codex_orchestrator.model import format_iso

    try:
        mtime = (run.paths.instance_by_id(entry.instance).workspace / entry.path).lstat().st_mtime
    except OSError:
        return None
    return format_iso(datetime.fromtimestamp(mtime, UTC))


def _live_entries(run: RunArtifacts) -> Iterator[KeptFile]:
    """Files of workspaces not kept yet (no ``metadata.json`` beside them)."""
    top = run.paths.instances_dir
    if not top.is_dir():
        return
    for record in run.manifest.commands:
        from codex_orchestrator.store.layout import command_file_stem

        instance = run.paths.instance(command_file_stem(record.index, record.id))
        if not instance.workspace.is_dir() or instance.metadata.exists():
            continue
        if confined(run, instance.workspace):  # never a workspace linked out of the tree
            yield from scan_tree(instance.instance_id, instance.workspace)


def split_artifact_path(run: RunArtifacts, name: str) -> tuple[str, str]:
    """``<instance>/<path>`` -> (instance id, path in its workspace); traversal refused."""
    from codex_orchestrator.artifacts.pathsafe import check_name

    check_name(name, what="artifact path")  # empty, NUL, absolute, '..'
    if "\\" in name or "" in name.split("/") or "." in name.split("/"):
        raise InvalidInput(f"artifact path {name!r} must be <instance>/<path>, without empty parts")
    parts = name.split("/")
    if len(parts) < 2:
        raise InvalidInput(f"artifact path {name!r} must be <instance>/<path>")
    stems = [parts[0]]
    rest = parts[1:]
    index = read_json(run.paths.index)
    known = (
        {str(row.get("instance")) for row in (index or {}).get("files", [])}
        if isinstance(index, dict)
        else set()
    )
    while len(rest) >= 2 and (
        "/".join([*stems, rest[0]]) in known
        or run.paths.instance_by_id("/".join([*stems, rest[0]])).dir.is_dir()
    ):
        stems.append(rest[0])
        rest = rest[1:]
    return "/".join(stems), "/".join(rest)


def open_file(run: RunArtifacts, name: str) -> Iterator[bytes]:
    """The bytes of ``<instance>/<path>``, streamed; links leading outside are refused."""
    instance_id, path = split_artifact_path(run, name)
    instance = run.paths.instance_by_id(instance_id)
    if not confined(run, run.paths.pack if run.packed else instance.workspace):
        raise InvalidInput(f"invalid artifact path {name!r}: leads out of the run's artifacts")
    if run.packed:
        from codex_orchestrator.artifacts.pack import read_member

        inner = f"instances/{'/instances/'.join(instance_id.split('/'))}/workspace/{path}"
        return read_member(run.paths.pack, inner)
    from codex_orchestrator.artifacts.pathsafe import resolve_inside

    resolved = resolve_inside(instance.workspace, path, what="artifact path")
    if not resolved.exists():
        raise InvalidInput(f"{name}: no such kept file in run {run.ref.run_id}")
    return _stream(resolved, name)


def _stream(path: Path, name: str) -> Iterator[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput(f"{name}: not a regular file")

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := os.read(fd, CHUNK):
                yield chunk
        finally:
            os.close(fd)

    return chunks()
