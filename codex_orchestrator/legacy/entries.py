"""What one directory entry under ``.runs`` is: a run, a compat pointer, or something else."""

from __future__ import annotations

import contextlib
import enum
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.legacy.readers import ManifestShape, manifest_shape, parse_legacy_time
from codex_orchestrator.model import HEARTBEAT_STALE_AFTER_SECONDS
from codex_orchestrator.store.catalog import MANIFEST_NAME, follow_pointer
from codex_orchestrator.store.layout import LEGACY_COMPAT_NAME, RunsLayout

_ACTIVE_STATUSES = frozenset({"queued", "in_progress", "running"})


class EntryKind(enum.StrEnum):
    """The kinds of entry migration tells apart."""

    MISSING = "missing"
    RUN = "run"  # a real run directory with a manifest of a known shape
    POINTER = "pointer"  # a compat pointer that resolves
    BROKEN_POINTER = "broken-pointer"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """One entry: its kind, and for a run its manifest; for a pointer its manifest's place."""

    kind: EntryKind
    reason: str = ""
    shape: ManifestShape = ManifestShape.UNKNOWN
    manifest: dict[str, Any] = field(default_factory=dict)
    target: Path | None = None


def inspect_entry(layout: RunsLayout, path: Path) -> Inspection:
    """Classify ``path`` (an entry of ``mcp/`` or ``local-mcp/``) without changing it."""
    if not os.path.lexists(path):
        return Inspection(kind=EntryKind.MISSING)
    if not path.is_dir():
        if path.is_symlink():
            return Inspection(kind=EntryKind.BROKEN_POINTER, reason="symlink leads nowhere")
        return Inspection(kind=EntryKind.UNRECOGNISED, reason="not a directory")
    own = path / MANIFEST_NAME
    target = follow_pointer(layout, path)
    if target is not None and (path.is_symlink() or target != own):
        return Inspection(kind=EntryKind.POINTER, target=target)
    if not os.path.lexists(own):
        if (path / LEGACY_COMPAT_NAME).is_file():
            return Inspection(kind=EntryKind.BROKEN_POINTER, reason="compat.json leads nowhere")
        return Inspection(kind=EntryKind.UNRECOGNISED, reason="no manifest.json")
    if target is None:
        return Inspection(
            kind=EntryKind.BROKEN_POINTER,
            reason="manifest.json is a pointer that leads nowhere, or unreadable",
        )
    try:
        data = orjson.loads(own.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        return Inspection(kind=EntryKind.UNRECOGNISED, reason=f"manifest.json unreadable ({exc})")
    shape = manifest_shape(data)
    if not shape.is_run or not isinstance(data, dict):
        return Inspection(
            kind=EntryKind.UNRECOGNISED,
            reason="manifest.json is not a run manifest of a known shape",
        )
    return Inspection(kind=EntryKind.RUN, shape=shape, manifest=data)


def active_for(
    run_dir: Path, manifest: dict[str, Any], now: datetime | None = None
) -> float | None:
    """Seconds since the last heartbeat of a run still marked running and fresh; else None."""
    if manifest.get("status") not in _ACTIVE_STATUSES:
        return None
    beats = [parse_legacy_time(manifest.get("heartbeat_at"))]
    with contextlib.suppress(OSError, UnicodeDecodeError):
        beats.append(parse_legacy_time((run_dir / ".heartbeat").read_text("utf-8").strip()))
    known = [beat for beat in beats if beat is not None]
    if not known:
        return None
    age = ((now or datetime.now(UTC)) - max(known)).total_seconds()
    stale_after = manifest.get("heartbeat_stale_after_seconds")
    if not isinstance(stale_after, int | float) or isinstance(stale_after, bool):
        stale_after = HEARTBEAT_STALE_AFTER_SECONDS
    return age if age <= stale_after else None
