"""Reading the config's ``artifacts.seal``: ``{recipients, recipientsFile, keepHashes}``.

Every recipient is parsed here, when the config is loaded, so a bad key stops the
command with exit 2 before anything runs. ``recipientsFile`` is relative to the
repository root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.errors import ConfigError, InvalidInput
from codex_orchestrator.model.sealing import SealSettings

_KEYS = frozenset({"recipients", "recipientsFile", "keepHashes"})


def read_seal_settings(
    reader: FieldReader, artifacts: dict[str, Any], root: Path
) -> SealSettings | None:
    """``artifacts.seal`` of the config (None when absent)."""
    raw = artifacts.get("seal")
    if raw is None:
        return None
    where = "artifacts.seal"
    seal = reader.object(raw, where)
    reader.warn_unknown(seal, where, _KEYS)
    keys = _recipient_list(reader, seal, where)
    listed = reader.text(seal, where, "recipientsFile", required=False)
    keep_hashes = reader.flag(seal, where, "keepHashes") or False
    from codex_orchestrator.artifacts.recipients import load_recipients

    try:
        found = load_recipients(keys, root / listed if listed else None, where=where)
    except InvalidInput as exc:  # its message starts with the key path
        raise ConfigError(f"{reader.display}: {exc.message}") from exc
    if found is None:
        raise reader.error(where, "needs recipients or recipientsFile (age public keys)")
    return SealSettings(recipients=found.keys, keep_hashes=keep_hashes)


def _recipient_list(reader: FieldReader, seal: dict[str, Any], where: str) -> list[str]:
    raw = seal.get("recipients")
    if raw is None:
        return []
    at = key_path(where, "recipients")
    if not isinstance(raw, list):
        raise reader.error(at, f"must be an array of age public keys, got {json_type(raw)}")
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise reader.error(f"{at}[{index}]", f"must be a string, got {json_type(item)}")
    return list(raw)
