"""Instance ``metadata.json`` and ``index.json``: written after a stage, read by collect."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.artifacts.records import (
    ARTIFACTS_VERSION,
    KeepResult,
    KeptFile,
    Problem,
)
from codex_orchestrator.model import CommandRecord
from codex_orchestrator.store.fsutil import atomic_write, fill_and_replace
from codex_orchestrator.store.layout import InstancePaths

JSON_OPTIONS = orjson.OPT_INDENT_2


def instance_metadata(
    instance: InstancePaths,
    record: CommandRecord,
    kept: KeepResult,
    parent_instance_id: str | None,
    run_id: str,
) -> dict[str, Any]:
    """The instance's ``metadata.json`` (LAYERS.md section 2), from its command record."""
    return {
        "version": ARTIFACTS_VERSION,
        "instance_id": instance.instance_id,
        "name": record.id,
        "title": record.title,
        "role": str(record.kind),
        "parent_instance_id": parent_instance_id,
        "run_id": run_id,
        "command": record.command,
        "created_at": record.started_at,
        "terminated_at": record.completed_at,
        "status": str(record.status),
        "exit_code": record.exit_code,
        "signal": record.signal,
        "duration_ms": record.duration_ms,
        "resources": record.resources.to_dict() if record.resources else None,
        "files": len(kept.files),
        "bytes": kept.bytes,
        "partial": kept.partial,
        "errors": [problem.to_dict() for problem in kept.errors],
        "warnings": [problem.to_dict() for problem in kept.warnings],
        "sub_run_id": record.sub_run_id,
    }


def write_instance(
    instance: InstancePaths,
    metadata: Mapping[str, Any],
    kept: KeepResult | None,
    *,
    fresh: bool = False,
    staged: Path | None = None,
) -> None:
    """Write ``metadata.json`` (and the instance's ``index.json`` when files were kept).

    ``fresh``: the instance was made by this runner a moment ago (its directory exists
    and holds neither file), so there is nothing to compare with or to create.
    ``staged``: an empty file made ahead in the instance; it becomes ``metadata.json``
    by a rename (no file to create now).
    """
    if not fresh:
        instance.dir.mkdir(parents=True, exist_ok=True)
    # No index.json for an instance that kept nothing: one file write less per stage.
    if kept is not None and (kept.files or (not fresh and instance.file_index.exists())):
        rows = [entry.to_dict() for entry in kept.files]
        _write_if_changed(
            instance.file_index, orjson.dumps(rows, option=JSON_OPTIONS), compare=not fresh
        )
    data = orjson.dumps(dict(metadata), option=JSON_OPTIONS)
    if staged is not None:
        with contextlib.suppress(OSError):  # else written the usual way, below
            fill_and_replace(staged, instance.metadata, data)
            return
    _write_if_changed(instance.metadata, data, compare=not fresh)


def _write_if_changed(path: Path, data: bytes, *, compare: bool = True) -> None:
    """Atomic, not synced: collect rebuilds these files from the run's durable evidence."""
    if compare:
        with contextlib.suppress(OSError):
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return
    atomic_write(path, data, durable=False)


def read_json(path: Path) -> Any:
    """A JSON document, or None when missing or unreadable."""
    with contextlib.suppress(OSError, orjson.JSONDecodeError):
        return orjson.loads(path.read_bytes())
    return None


def read_instance_metadata(instance: InstancePaths) -> dict[str, Any] | None:
    """An instance's ``metadata.json``, or None."""
    data = read_json(instance.metadata)
    return data if isinstance(data, dict) else None


def read_kept(instance: InstancePaths) -> KeepResult | None:
    """What an instance kept, from its ``index.json`` and ``metadata.json``; None if unknown."""
    metadata = read_instance_metadata(instance)
    if metadata is None:
        return None
    rows = read_json(instance.file_index) if instance.file_index.exists() else []
    if not isinstance(rows, list):
        return None
    files = tuple(
        KeptFile.from_dict(row, instance.instance_id) for row in rows if isinstance(row, dict)
    )
    errors = tuple(
        Problem.from_dict(p) for p in metadata.get("errors") or [] if isinstance(p, dict)
    )
    warnings = tuple(
        Problem.from_dict(p) for p in metadata.get("warnings") or [] if isinstance(p, dict)
    )
    return KeepResult(files=files, errors=errors, warnings=warnings)
