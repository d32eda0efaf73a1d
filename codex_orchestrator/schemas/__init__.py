"""JSON Schemas of the documents we persist, shipped inside the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

MANIFEST_SCHEMA_NAME = "manifest.schema.json"


@cache
def _load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of ``manifest.json`` (a fresh dict on every call)."""
    schema: dict[str, Any] = json.loads(_load(MANIFEST_SCHEMA_NAME))
    return schema
