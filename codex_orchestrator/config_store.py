"""The config's ``store`` and ``secrets`` objects: the git artifact store and log masking."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.model import (
    DEFAULT_MASK_ENV,
    PipelineStore,
    SecretsSettings,
    StoreSettings,
    StoreWhen,
)

_STORE_KEYS = frozenset(
    {
        "path",
        "branchPrefix",
        "author",
        "sign",
        "autoPush",
        "remote",
        "pushTimeoutSeconds",
        "scanSecrets",
        "secretPatterns",
        "requireCorrelationId",
    }
)
_SECRETS_KEYS = frozenset({"maskEnv"})
_PLACEHOLDERS = re.compile(r"\{([^{}]*)\}")
_KNOWN_PLACEHOLDERS = frozenset({"task_id", "workflow_id"})
_REF_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def read_store(reader: FieldReader, document: Mapping[str, Any]) -> StoreSettings:
    """``store`` as settings; defaults when absent; errors name the key path."""
    raw = document.get("store")
    if raw is None:
        return StoreSettings()
    obj = reader.object(raw, "store")
    reader.warn_unknown(obj, "store", _STORE_KEYS)
    defaults = StoreSettings()
    path = reader.text(obj, "store", "path", required=False) or defaults.path
    _check_store_path(reader, path)
    prefix = reader.text(obj, "store", "branchPrefix", required=False) or defaults.branch_prefix
    _check_branch_prefix(reader, prefix)
    remote = reader.text(obj, "store", "remote", required=False) or defaults.remote
    if not _REF_PART.match(remote) and "://" not in remote and not remote.startswith("/"):
        raise reader.error("store.remote", f"not a remote name or URL: {remote!r}")
    return StoreSettings(
        path=path,
        branch_prefix=prefix,
        author=reader.text(obj, "store", "author", required=False) or defaults.author,
        sign=_flag(reader, obj, "sign", defaults.sign),
        auto_push=_flag(reader, obj, "autoPush", defaults.auto_push),
        remote=remote,
        push_timeout_seconds=_seconds(reader, obj, defaults.push_timeout_seconds),
        scan_secrets=_flag(reader, obj, "scanSecrets", defaults.scan_secrets),
        secret_patterns=_patterns(reader, obj),
        require_correlation_id=reader.flag(obj, "store", "requireCorrelationId"),
    )


def read_secrets(reader: FieldReader, document: Mapping[str, Any]) -> SecretsSettings:
    """``secrets`` as settings (``maskEnv``: glob patterns of variable names)."""
    raw = document.get("secrets")
    if raw is None:
        return SecretsSettings()
    obj = reader.object(raw, "secrets")
    reader.warn_unknown(obj, "secrets", _SECRETS_KEYS)
    names = _strings(reader, obj, "secrets", "maskEnv")
    return SecretsSettings(mask_env=DEFAULT_MASK_ENV if names is None else names)


def _flag(reader: FieldReader, obj: Mapping[str, Any], key: str, default: bool) -> bool:
    value = reader.flag(obj, "store", key)
    return default if value is None else value


def _seconds(reader: FieldReader, obj: Mapping[str, Any], default: float) -> float:
    value = obj.get("pushTimeoutSeconds")
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    got = (
        json_type(value) if isinstance(value, bool) or not isinstance(value, int | float) else value
    )
    raise reader.error("store.pushTimeoutSeconds", f"must be a positive number, got {got}")


def _strings(
    reader: FieldReader, obj: Mapping[str, Any], where: str, key: str
) -> tuple[str, ...] | None:
    raw = reader.typed(obj, where, key, list, required=False)
    if raw is None:
        return None
    for index, item in enumerate(raw):
        if not isinstance(item, str) or not item:
            got = json_type(item) if not isinstance(item, str) else "an empty string"
            raise reader.error(f"{key_path(where, key)}[{index}]", f"must be a string, got {got}")
    return tuple(raw)


def _patterns(reader: FieldReader, obj: Mapping[str, Any]) -> tuple[str, ...]:
    patterns = _strings(reader, obj, "store", "secretPatterns") or ()
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            where = f"store.secretPatterns[{index}]"
            raise reader.error(where, f"not a valid regular expression: {exc}") from exc
    return patterns


def _check_store_path(reader: FieldReader, path: str) -> None:
    for name in _PLACEHOLDERS.findall(path):
        if name not in _KNOWN_PLACEHOLDERS:
            message = f"unknown placeholder {{{name}}} (known: {{task_id}}, {{workflow_id}})"
            raise reader.error("store.path", message)
    parts = _PLACEHOLDERS.sub("x", path).split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise reader.error("store.path", f"must be a relative path without '..': {path!r}")


def _check_branch_prefix(reader: FieldReader, prefix: str) -> None:
    if not all(_REF_PART.match(part) for part in prefix.split("/")) or ".." in prefix:
        raise reader.error("store.branchPrefix", f"not a valid branch prefix: {prefix!r}")


_PIPELINE_STORE_KEYS = frozenset({"on", "workflow", "correlationId"})
_CORRELATION_PLACEHOLDER = re.compile(
    r"\{(run_id|task_id|pipeline_id|env:[A-Za-z_][A-Za-z0-9_]*)\}"
)


def read_pipeline_store(
    reader: FieldReader, obj: Mapping[str, Any], where: str
) -> PipelineStore | None:
    """A pipeline's ``store``: ``{"on": "success"|"always", "workflow", "correlationId"}``."""
    raw = obj.get("store")
    if raw is None:
        return None
    store_where = key_path(where, "store")
    fields = reader.object(raw, store_where)
    reader.warn_unknown(fields, store_where, _PIPELINE_STORE_KEYS)
    when = reader.text(fields, store_where, "on", required=False) or StoreWhen.SUCCESS.value
    if when not in {member.value for member in StoreWhen}:
        message = f'must be "success" or "always", got {when!r}'
        raise reader.error(key_path(store_where, "on"), message)
    workflow = reader.text(fields, store_where, "workflow", required=False)
    if workflow is not None and not _REF_PART.match(workflow):
        message = "use letters, digits, '.', '_' and '-'"
        raise reader.error(key_path(store_where, "workflow"), message)
    correlation = reader.text(fields, store_where, "correlationId", required=False)
    if correlation is not None:
        rest = _CORRELATION_PLACEHOLDER.sub("x", correlation)
        if not _REF_PART.match(rest) or ".." in rest:
            message = (
                "use letters, digits, '.', '_', '-' and {run_id}, {task_id}, "
                "{pipeline_id} or {env:NAME}"
            )
            raise reader.error(key_path(store_where, "correlationId"), message)
    return PipelineStore(when=StoreWhen(when), workflow=workflow, correlation_id=correlation)
