"""Tolerant views of run manifests of every layout: ours, flat agents-sdk ones, bare early ones.

Nothing here raises on a field that is missing or of the wrong type: it shows as unknown.
Unknown fields are never dropped (they stay in ``RunManifest.extra``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codex_orchestrator.model import RunManifest, parse_iso
from codex_orchestrator.store.catalog import RunRef, is_pointer_stub
from codex_orchestrator.store.manifest import read_manifest_dict

UNKNOWN = "unknown"
# "2025-10-18T13-37-27Z", "2025-10-18T18-26-16-688Z": the run-id style the early runner used.
_DASHED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})(?:-(\d{3}))?Z")


class ManifestShape(enum.StrEnum):
    """Which family a manifest belongs to."""

    CURRENT = "current"  # runner "codex-cli": ours and the TypeScript CLI's
    AGENTS_SDK = "agents-sdk"  # the flat MCP-runner manifest, commands with response_file
    EARLY_MCP = "early-mcp"  # "mode": "mcp", almost no fields
    GENERIC = "generic"  # some other run manifest that still names its run or task
    STUB = "stub"  # a compat pointer {redirect_to, manifest, created_at}
    UNKNOWN = "unknown"  # not a run manifest this tool knows (other formats, other tools)

    @property
    def is_run(self) -> bool:
        """Whether a manifest of this shape describes a run we can read and migrate."""
        return self not in (ManifestShape.STUB, ManifestShape.UNKNOWN)


def manifest_shape(data: Any) -> ManifestShape:
    """Classify a parsed manifest."""
    if not isinstance(data, Mapping):
        return ManifestShape.UNKNOWN
    if is_pointer_stub(data):
        return ManifestShape.STUB
    runner = data.get("runner")
    if runner == "codex-cli":
        return ManifestShape.CURRENT
    commands = data.get("commands")
    has_response_files = isinstance(commands, list) and any(
        isinstance(item, Mapping) and "response_file" in item for item in commands
    )
    if runner == "agents-sdk" or has_response_files:
        return ManifestShape.AGENTS_SDK
    if data.get("mode") == "mcp":
        return ManifestShape.EARLY_MCP
    if isinstance(data.get("run_id"), str) or isinstance(data.get("task_id"), str):
        return ManifestShape.GENERIC
    return ManifestShape.UNKNOWN


def parse_legacy_time(text: Any) -> datetime | None:
    """ISO-8601, or the dashed run-id style of early manifests; None otherwise."""
    if not isinstance(text, str):
        return None
    parsed = parse_iso(text)
    if parsed is not None:
        return parsed
    match = _DASHED_TIME.match(text)
    if match is None:
        return None
    day, hour, minute, second, millis = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}")
    except ValueError:
        return None
    return moment.replace(microsecond=int(millis or 0) * 1000, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunView:
    """What a person needs to see about one run, whatever its layout."""

    task_id: str
    run_id: str
    source: str
    shape: ManifestShape
    status: str
    pipeline_id: str
    runner: str
    started_at: datetime | None
    completed_at: datetime | None
    commands_total: int
    commands_passed: int
    commands_failed: int
    manifest_path: Path
    extra_fields: tuple[str, ...]


def view_of(ref: RunRef, data: Mapping[str, Any]) -> RunView:
    """A tolerant view of a run from its (possibly legacy) manifest dict."""
    manifest = RunManifest.from_dict(data)
    statuses = [
        item.get("status") for item in _list(data.get("commands")) if isinstance(item, Mapping)
    ]
    return RunView(
        task_id=_text(data.get("task_id")) or ref.task_id,
        run_id=_text(data.get("run_id")) or ref.run_id,
        source=ref.source,
        shape=manifest_shape(data),
        status=_text(data.get("status")) or UNKNOWN,
        pipeline_id=_text(data.get("pipeline_id")) or UNKNOWN,
        runner=_text(data.get("runner")) or _text(data.get("mode")) or UNKNOWN,
        started_at=parse_legacy_time(data.get("started_at")) or parse_legacy_time(ref.run_id),
        completed_at=parse_legacy_time(data.get("completed_at")),
        commands_total=len(statuses),
        commands_passed=statuses.count("succeeded"),
        commands_failed=statuses.count("failed"),
        manifest_path=ref.manifest_path,
        extra_fields=tuple(sorted(manifest.extra)),
    )


def read_run_view(ref: RunRef) -> RunView:
    """Read the manifest a ref names and view it; ManifestUnreadable/RunNotFound propagate."""
    return view_of(ref, read_manifest_dict(ref.manifest_path))


def load_manifest(ref: RunRef) -> RunManifest:
    """The run's manifest, with the identity older manifests leave out taken from the ref."""
    data = read_manifest_dict(ref.manifest_path)
    for key, value in (("run_id", ref.run_id), ("task_id", ref.task_id)):
        if not _text(data.get(key)):
            data[key] = value
    return RunManifest.from_dict(data)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
