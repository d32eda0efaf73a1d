"""Reading the config's ``artifacts`` object: ``{dir, retention, seal}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.config_seal import read_seal_settings
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model.artifacts import ArtifactSettings, Retention

_KEYS = frozenset({"dir", "retention", "seal"})
_RETENTION_KEYS = frozenset({"days", "keepLast", "maxSize", "compressAfterDays"})


def read_artifact_settings(
    reader: FieldReader, document: dict[str, Any], root: Path
) -> ArtifactSettings:
    """``artifacts`` of the config document (defaults when absent)."""
    raw = document.get("artifacts")
    if raw is None:
        return ArtifactSettings()
    obj = reader.object(raw, "artifacts")
    reader.warn_unknown(obj, "artifacts", _KEYS)
    directory = reader.text(obj, "artifacts", "dir", required=False)
    seal = read_seal_settings(reader, obj, root)
    retention_raw = obj.get("retention")
    if retention_raw is None:
        return ArtifactSettings(dir=directory, seal=seal)
    where = "artifacts.retention"
    retention = reader.object(retention_raw, where)
    reader.warn_unknown(retention, where, _RETENTION_KEYS)
    return ArtifactSettings(
        dir=directory,
        retention=Retention(
            days=_number(reader, retention, where, "days"),
            keep_last=_count(reader, retention, where),
            max_size=_size(reader, retention, where),
            compress_after_days=_number(reader, retention, where, "compressAfterDays"),
        ),
        seal=seal,
    )


def _number(reader: FieldReader, obj: dict[str, Any], where: str, key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise reader.error(key_path(where, key), f"must be a non-negative number, got {value!r}")
    return float(value)


def _count(reader: FieldReader, obj: dict[str, Any], where: str) -> int | None:
    value = obj.get("keepLast")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        got = json_type(value) if not isinstance(value, int) else str(value)
        raise reader.error(
            key_path(where, "keepLast"), f"must be a non-negative integer, got {got}"
        )
    return value


def _size(reader: FieldReader, obj: dict[str, Any], where: str) -> int | None:
    from codex_orchestrator.artifacts.units import parse_size

    value = obj.get("maxSize")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return parse_size(value, "maxSize")
        except InvalidInput as exc:
            raise reader.error(key_path(where, "maxSize"), exc.message) from exc
    raise reader.error(key_path(where, "maxSize"), f"must be a size such as 10GB, got {value!r}")


def read_artifact_globs(reader: FieldReader, obj: dict[str, Any], where: str) -> tuple[str, ...]:
    """A command stage's ``artifacts``: relative globs that stay below its cwd."""
    from codex_orchestrator.artifacts.keep import validate_glob

    raw = obj.get("artifacts")
    if raw is None:
        return ()
    at = key_path(where, "artifacts")
    if not isinstance(raw, list):
        raise reader.error(at, f"must be an array of glob strings, got {json_type(raw)}")
    globs = []
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise reader.error(f"{at}[{index}]", f"must be a string, got {json_type(item)}")
        try:
            globs.append(validate_glob(item))
        except InvalidInput as exc:
            raise reader.error(f"{at}[{index}]", exc.message) from exc
    return tuple(globs)
