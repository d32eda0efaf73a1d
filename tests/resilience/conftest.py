"""The ``project`` fixture: a project dir whose processes are ended at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A project directory with its own config, where the tests run the CLI."""
    root = tmp_path / "project"
    root.mkdir()
    made = Project(root=root)
    try:
        yield made
    finally:
        made.cleanup()
