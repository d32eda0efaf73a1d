"""Fixtures for legacy tests: isolation, and trees holding every older shape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .trees import AGENTS, AGENTS_FAILED, EARLY, LOCAL_REAL, LegacyTree

_OWN_ENV_PREFIX = "CODEX_ORCHESTRATOR_"
_OWN_ENV_NAMES = frozenset({"MCP_RUNNER_TASK_ID"})


@pytest.fixture(autouse=True)
def _legacy_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No orchestrator variables leak in or out; every test runs in its own directory."""
    for name in list(os.environ):
        if name.startswith(_OWN_ENV_PREFIX) or name in _OWN_ENV_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def legacy_tree(tmp_path: Path) -> LegacyTree:
    """An empty builder rooted at the test's directory."""
    return LegacyTree(tmp_path)


@pytest.fixture
def fixture_like(legacy_tree: LegacyTree) -> LegacyTree:
    """Every shape of the shared fixture, plus a real run left in local-mcp."""
    legacy_tree.agents_sdk_run("0001", AGENTS)
    legacy_tree.agents_sdk_run("0001", AGENTS_FAILED, status="failed")
    legacy_tree.early_mcp_run("0001", EARLY)
    legacy_tree.local_pointer(EARLY, "0001")
    legacy_tree.local_real_run(LOCAL_REAL)
    legacy_tree.other_format()
    return legacy_tree
