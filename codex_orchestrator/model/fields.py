"""Tolerant field readers: a malformed value falls back instead of failing the read."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

_E = TypeVar("_E", bound=enum.StrEnum)


def opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def str_or(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def opt_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def list_of_maps(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def enum_or(kind: type[_E], value: Any, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default
