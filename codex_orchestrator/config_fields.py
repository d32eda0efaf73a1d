"""Reading typed fields of a JSON config, with errors naming the file and key path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model import ReportFormat

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_NO_ENV: Mapping[str, str] = MappingProxyType({})


def key_path(path: str, key: str) -> str:
    """``path`` extended by ``key``: ``a.b``, or ``a["odd key"]`` for keys that need quoting."""
    part = key if _PLAIN_KEY.match(key) else f"[{orjson.dumps(key).decode()}]"
    if not path:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class FieldReader:
    """Typed access to a config's objects; one-line errors, warnings for unknown keys."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.warnings: list[str] = []

    def error(self, where: str, message: str) -> ConfigError:
        """An error naming the file and the key path."""
        return ConfigError(f"{self.display}: {where}: {message}")

    def warn_unknown(self, obj: Mapping[str, Any], where: str, known: frozenset[str]) -> None:
        self.warnings += [
            f"{self.display}: {key_path(where, key)}: unknown key (ignored)"
            + _did_you_mean(key, known)
            for key in obj
            if key not in known
        ]

    def object(self, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.error(where, f"must be an object, got {json_type(raw)}")
        return raw

    def typed(
        self, obj: Mapping[str, Any], where: str, key: str, kind: type[Any], *, required: bool
    ) -> Any:
        value = obj.get(key)
        # JSON null reads as "not given", as config generators like to write it.
        if value is None:
            if required:
                raise self.error(key_path(where, key), f"required {_NOUNS[kind]} is missing")
            return None
        if not isinstance(value, kind):
            expected = _EXPECTED[kind]
            raise self.error(key_path(where, key), f"must be {expected}, got {json_type(value)}")
        return value

    def text(
        self,
        obj: Mapping[str, Any],
        where: str,
        key: str,
        *,
        required: bool = True,
        allow_empty: bool = False,
    ) -> str | None:
        value: str | None = self.typed(obj, where, key, str, required=required)
        if value is not None and not allow_empty and not value.strip():
            raise self.error(key_path(where, key), "must be a non-empty string")
        return value

    def required_text(self, obj: Mapping[str, Any], where: str, key: str) -> str:
        value = self.text(obj, where, key)
        assert value is not None  # noqa: S101 - text() raises when a required value is absent
        return value

    def flag(self, obj: Mapping[str, Any], where: str, key: str) -> bool | None:
        value: bool | None = self.typed(obj, where, key, bool, required=False)
        return value

    def timeout(self, obj: Mapping[str, Any], where: str) -> int | None:
        value = obj.get("timeoutMs")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        shown = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        got = json_type(value) if shown is None else str(shown)
        raise self.error(key_path(where, "timeoutMs"), f"must be a positive integer, got {got}")

    def report_formats(self, obj: Mapping[str, Any], key: str) -> tuple[ReportFormat, ...]:
        """``reports``: report formats written after every run, each named once."""
        raw = self.typed(obj, "", key, list, required=False) or []
        known = ", ".join(str(f) for f in ReportFormat)
        formats: list[ReportFormat] = []
        for index, value in enumerate(raw):
            where = f"{key}[{index}]"
            if not isinstance(value, str):
                raise self.error(where, f"must be a string ({known}), got {json_type(value)}")
            try:
                report_format = ReportFormat(value)
            except ValueError:
                raise self.error(where, f'unknown report format "{value}" ({known})') from None
            if report_format in formats:
                raise self.error(where, f'"{value}" is listed twice')
            formats.append(report_format)
        return tuple(formats)

    def env(self, obj: Mapping[str, Any], where: str) -> Mapping[str, str]:
        raw = obj.get("env")
        if raw is None:
            return _NO_ENV
        env_where = key_path(where, "env")
        if not isinstance(raw, dict):
            message = f"must be an object of strings, got {json_type(raw)}"
            raise self.error(env_where, message)
        for name, value in raw.items():
            if not name or "=" in name or "\0" in name:
                raise self.error(key_path(env_where, name), "not a valid environment variable name")
            if not isinstance(value, str):
                raise self.error(
                    key_path(env_where, name), f"must be a string, got {json_type(value)}"
                )
            if "\0" in value:
                # The OS cannot pass it: fail here rather than when the stage starts.
                raise self.error(key_path(env_where, name), "must not contain a NUL character")
        return MappingProxyType(dict(raw))


_NOUNS: Mapping[type[Any], str] = {str: "string", list: "array", dict: "object", bool: "boolean"}
_EXPECTED: Mapping[type[Any], str] = {
    str: "a string",
    list: "an array",
    dict: "an object",
    bool: "true or false",
}


def _did_you_mean(key: str, known: frozenset[str]) -> str:
    """``; did you mean timeoutMs?`` for a misspelt key, else nothing."""
    import difflib

    by_case = {name.lower(): name for name in known}
    match = by_case.get(key.lower().replace("_", "").replace("-", ""))
    if match is None:
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
        match = close[0] if close else None
    return f"; did you mean {match}?" if match else ""
