"""The test tools are pinned to exact versions, so a new release cannot turn CI red alone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
PINNED = re.compile(r"^[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+\-]*$")


def test_every_test_tool_is_pinned_exactly() -> None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    loose = [requirement for requirement in extras["test"] if not PINNED.match(requirement)]
    assert loose == []
    names = {re.split(r"[=<>\[]", r)[0].lower() for r in extras["test"]}
    assert {"pytest", "pytest-timeout", "hypothesis", "ruff", "mypy"} <= names
