"""Rewriting a legacy manifest for its new place; the original is kept byte for byte elsewhere.

Only what the new layout needs changes: path strings naming the old run directory,
``artifact_root`` and ``compat_path``, and the identity older manifests left out
(``run_id``, ``task_id``). Every other field, known or not, keeps its value and order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from codex_orchestrator.store.layout import LEGACY_MANIFEST_NAME


@dataclass(frozen=True, slots=True, kw_only=True)
class Relocation:
    """Where a run was and where it goes, as manifests record paths."""

    run_id: str
    task_id: str
    old_forms: tuple[str, ...]  # every spelling of the old run directory
    new_root: str  # the new run directory, relative to the repo root
    new_compat: str  # the compat pointer, relative to the repo root
    old_layout: str  # "mcp" or "local-mcp"
    migrated_at: str


def relocate_manifest(raw: bytes, relocation: Relocation) -> bytes | None:
    """The rewritten manifest, or None when it already suits the new place.

    Raises ``ValueError`` when ``raw`` is not JSON, ``TypeError`` when not an object.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"manifest is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise TypeError("manifest is not a JSON object")
    updated: dict[str, Any] = {key: _rewrite(item, relocation) for key, item in data.items()}
    updated["artifact_root"] = relocation.new_root
    updated["compat_path"] = relocation.new_compat
    for key, value in (("run_id", relocation.run_id), ("task_id", relocation.task_id)):
        current = updated.get(key)
        if not isinstance(current, str) or not current:
            updated[key] = value
    if updated == data:
        return None
    updated["migrated_from"] = {
        "layout": relocation.old_layout,
        "path": relocation.old_forms[0],
        "legacy_manifest": LEGACY_MANIFEST_NAME,
        "migrated_at": relocation.migrated_at,
    }
    return orjson.dumps(updated, option=orjson.OPT_INDENT_2) + b"\n"


def _rewrite(value: Any, relocation: Relocation) -> Any:
    if isinstance(value, str):
        return _moved_path(value, relocation)
    if isinstance(value, list):
        return [_rewrite(item, relocation) for item in value]
    if isinstance(value, dict):
        return {key: _rewrite(item, relocation) for key, item in value.items()}
    return value


def _moved_path(text: str, relocation: Relocation) -> str:
    """A path string naming the old run directory, or something in it, moved to the new one."""
    for old in relocation.old_forms:
        if text == old or text.startswith(old + "/"):
            return relocation.new_root + text[len(old) :]
    return text
