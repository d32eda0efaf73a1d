"""Tolerant views of older manifests: nothing missing crashes, nothing unknown is dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_orchestrator.legacy.readers import (
    ManifestShape,
    load_manifest,
    manifest_shape,
    parse_legacy_time,
    read_run_view,
    view_of,
)
from codex_orchestrator.store.catalog import RunRef, locate_run
from codex_orchestrator.store.layout import RunsLayout

from .trees import AGENTS, EARLY, LegacyTree


@pytest.mark.parametrize(
    ("data", "shape"),
    [
        ({"runner": "codex-cli", "run_id": "x"}, ManifestShape.CURRENT),
        ({"runner": "agents-sdk"}, ManifestShape.AGENTS_SDK),
        ({"commands": [{"response_file": "a.json"}]}, ManifestShape.AGENTS_SDK),
        ({"mode": "mcp", "task_id": "0001"}, ManifestShape.EARLY_MCP),
        ({"run_id": "x", "status": "failed"}, ManifestShape.GENERIC),
        ({"redirect_to": "../cli/x", "manifest": "../cli/x/manifest.json"}, ManifestShape.STUB),
        ({"task": {"id": "0001"}, "run": {"id": "T"}}, ManifestShape.UNKNOWN),
        ([1, 2], ManifestShape.UNKNOWN),
        (None, ManifestShape.UNKNOWN),
    ],
)
def test_manifest_shapes(data: Any, shape: ManifestShape) -> None:
    assert manifest_shape(data) is shape


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-18T18:26:16.689Z", datetime(2025, 10, 18, 18, 26, 16, 689000, tzinfo=UTC)),
        ("2025-10-18T13-37-27Z", datetime(2025, 10, 18, 13, 37, 27, tzinfo=UTC)),
        ("2025-10-18T18-26-16-688Z-39463", datetime(2025, 10, 18, 18, 26, 16, 688000, tzinfo=UTC)),
        ("2025-13-45T99-99-99Z", None),
        ("yesterday", None),
        (12, None),
        (None, None),
    ],
)
def test_legacy_times(text: Any, expected: datetime | None) -> None:
    assert parse_legacy_time(text) == expected


@given(
    st.dictionaries(
        st.text(max_size=8), st.none() | st.integers() | st.text() | st.lists(st.integers())
    )
)
def test_any_object_gives_a_view(data: dict[str, Any]) -> None:
    ref = RunRef(task_id="0001", run_id="r", manifest_path=Path("m.json"), source="mcp")

    view = view_of(ref, data)

    assert view.run_id
    assert view.status


def test_agents_sdk_view(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS, status="failed")
    ref = locate_run(RunsLayout.for_root(tmp_path), AGENTS, "0001")

    view = read_run_view(ref)

    assert view.shape is ManifestShape.AGENTS_SDK
    assert view.status == "failed"
    assert view.pipeline_id == "unknown"
    assert view.runner == "agents-sdk"
    assert view.source == "mcp"
    assert (view.commands_total, view.commands_passed, view.commands_failed) == (2, 1, 1)
    assert {"script", "timeout_seconds", "repo_root"} <= set(view.extra_fields)


def test_bare_early_manifest_shows_unknowns(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.early_mcp_run("0001", EARLY)
    ref = locate_run(RunsLayout.for_root(tmp_path), EARLY, None)

    view = read_run_view(ref)
    manifest = load_manifest(ref)

    assert view.shape is ManifestShape.EARLY_MCP
    assert view.status == "unknown"
    assert view.run_id == EARLY
    assert view.started_at == datetime(2025, 10, 18, 13, 37, 27, tzinfo=UTC)
    assert view.commands_total == 0
    assert manifest.run_id == EARLY
    assert manifest.task_id == "0001"
    assert manifest.extra["mode"] == "mcp"
    assert json.loads(json.dumps(manifest.to_dict()))["command"] == "codex mcp-server"
