"""Fixtures of the report tests: real runs made once per session."""

from __future__ import annotations

import pytest

from .runs import SampleRuns, make_sample_runs


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> SampleRuns:
    """A project holding real runs of every shape the reports must show."""
    return make_sample_runs(tmp_path_factory.mktemp("report-project"))
