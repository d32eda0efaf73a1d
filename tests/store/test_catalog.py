"""Finding runs in every layout: canonical first, pointers followed, each run listed once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from codex_orchestrator.errors import InvalidInput, RunNotFound
from codex_orchestrator.store.catalog import follow_pointer, latest_run, list_runs, locate_run
from codex_orchestrator.store.layout import RunsLayout

NEW = "2025-11-01T10-00-00-000Z-aaaaaaaa"
NEWER = "2025-11-02T10-00-00-000Z-bbbbbbbb"
LEGACY = "2025-10-18T18-26-16-688Z-39463"
EARLY = "2025-10-18T13-37-27Z"
LOCAL = "2025-10-17T09-00-00-000Z-11111"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CODEX_ORCHESTRATOR_") or name == "MCP_RUNNER_TASK_ID":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def layout(tmp_path: Path) -> RunsLayout:
    return RunsLayout.for_root(tmp_path)


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def cli_run(layout: RunsLayout, task: str, run_id: str, *, pointer: str = "symlink") -> Path:
    manifest = write_json(
        layout.run(task, run_id).manifest,
        {"run_id": run_id, "task_id": task, "runner": "codex-cli", "status": "succeeded"},
    )
    compat = layout.compat_pointer(task, run_id)
    compat.parent.mkdir(parents=True, exist_ok=True)
    if pointer == "symlink":
        compat.symlink_to(f"../cli/{run_id}", target_is_directory=True)
    elif pointer == "stub":
        stub = {"redirect_to": f"../cli/{run_id}", "manifest": f"../cli/{run_id}/manifest.json"}
        write_json(compat / "manifest.json", {**stub, "created_at": "2025-11-01T10:00:00.000Z"})
    return manifest


def mcp_run(layout: RunsLayout, task: str, run_id: str, **fields: Any) -> Path:
    data = {"runner": "agents-sdk", "run_id": run_id, "task_id": task, "status": "failed", **fields}
    return write_json(layout.compat_pointer(task, run_id) / "manifest.json", data)


def local_pointer(layout: RunsLayout, run_id: str, task: str, *, as_text: bool = False) -> None:
    entry = layout.legacy_run_dir(run_id)
    write_json(entry / "compat.json", {"manifest": f".runs/{task}/mcp/{run_id}/manifest.json"})
    target = f"../../{task}/mcp/{run_id}/manifest.json"
    if as_text:
        (entry / "manifest.json").write_text(target)
    else:
        (entry / "manifest.json").symlink_to(target)


def test_canonical_runs_newest_first(layout: RunsLayout) -> None:
    cli_run(layout, "0001", NEW)
    cli_run(layout, "0001", NEWER)

    refs = list_runs(layout, "0001")

    assert [(ref.run_id, ref.source) for ref in refs] == [(NEWER, "cli"), (NEW, "cli")]
    assert refs[0].manifest_path == layout.run("0001", NEWER).manifest
    assert latest_run(layout, "0001").run_id == NEWER


def test_every_layout_is_listed_once(layout: RunsLayout) -> None:
    cli_run(layout, "0001", NEW)
    cli_run(layout, "0001", NEWER, pointer="stub")
    mcp_run(layout, "0001", LEGACY)
    write_json(
        layout.compat_pointer("0001", EARLY) / "manifest.json", {"mode": "mcp", "task_id": "0001"}
    )
    local_pointer(layout, EARLY, "0001", as_text=True)
    local_pointer(layout, LEGACY, "0001")
    write_json(
        layout.legacy_run_dir(LOCAL) / "manifest.json",
        {"runner": "agents-sdk", "status": "succeeded"},
    )

    refs = list_runs(layout, "0001")

    assert [(ref.run_id, ref.source) for ref in refs] == [
        (NEWER, "cli"),
        (NEW, "cli"),
        (LEGACY, "mcp"),
        (EARLY, "mcp"),
        (LOCAL, "local-mcp"),
    ]
    assert all(ref.task_id == "0001" for ref in refs)
    assert all(ref.manifest_path.is_file() for ref in refs)
    by_id = {ref.run_id: ref for ref in refs}
    assert by_id[LEGACY].manifest_path == layout.compat_pointer("0001", LEGACY) / "manifest.json"
    assert by_id[LOCAL].manifest_path == layout.legacy_run_dir(LOCAL) / "manifest.json"


def test_locate_follows_each_kind_of_pointer(layout: RunsLayout) -> None:
    cli_run(layout, "0001", NEWER, pointer="stub")
    mcp_run(layout, "0001", LEGACY)
    local_pointer(layout, LEGACY, "0001", as_text=True)

    assert locate_run(layout, NEWER, "0001").source == "cli"
    located = locate_run(layout, LEGACY, None)
    assert (located.task_id, located.source) == ("0001", "mcp")
    stub = layout.compat_pointer("0001", NEWER)
    assert follow_pointer(layout, stub) == layout.run("0001", NEWER).manifest


def test_local_only_run_is_found_through_its_pointer(layout: RunsLayout) -> None:
    mcp_run(layout, "0001", LEGACY)
    local_pointer(layout, LEGACY, "0001")
    moved = layout.runs_dir / "elsewhere"
    layout.mcp_dir("0001").rename(moved)  # only local-mcp knows the run now
    layout.task_dir("0001").mkdir(exist_ok=True)
    (layout.mcp_dir("0001")).symlink_to(moved, target_is_directory=True)

    ref = locate_run(layout, LEGACY, None)

    assert (ref.task_id, ref.run_id) == ("0001", LEGACY)


def test_legacy_run_of_another_task_stays_there(layout: RunsLayout) -> None:
    write_json(
        layout.legacy_run_dir(LOCAL) / "manifest.json", {"runner": "agents-sdk", "task_id": "0002"}
    )

    assert list_runs(layout, "0001") == []
    assert [ref.task_id for ref in list_runs(layout, None)] == ["0002"]
    with pytest.raises(RunNotFound):
        locate_run(layout, LOCAL, "0001")
    assert locate_run(layout, LOCAL, "0002").source == "local-mcp"


def test_taskless_legacy_run_shows_under_the_task_asked(layout: RunsLayout) -> None:
    write_json(layout.legacy_run_dir(LOCAL) / "manifest.json", {"runner": "agents-sdk"})

    assert [ref.task_id for ref in list_runs(layout, "0001")] == ["0001"]
    assert [ref.task_id for ref in list_runs(layout, None)] == ["local-mcp"]
    assert locate_run(layout, LOCAL, "0007").task_id == "0007"


def test_pointers_that_lead_nowhere_or_outside_are_ignored(
    layout: RunsLayout, tmp_path: Path
) -> None:
    mcp = layout.mcp_dir("0001")
    mcp.mkdir(parents=True)
    (mcp / NEW).symlink_to("../cli/missing", target_is_directory=True)
    outside = write_json(tmp_path / "outside" / "manifest.json", {"run_id": "x"})
    (mcp / NEWER).symlink_to(outside.parent, target_is_directory=True)
    write_json(
        mcp / LEGACY / "manifest.json",
        {"redirect_to": "../cli/gone", "manifest": "../cli/gone/manifest.json"},
    )
    loop = mcp / EARLY
    loop.mkdir()
    (loop / "manifest.json").write_text(f"../{EARLY}/manifest.json")

    assert list_runs(layout, "0001") == []
    for run_id in (NEW, NEWER, LEGACY, EARLY):
        with pytest.raises(RunNotFound):
            locate_run(layout, run_id, "0001")


def test_hidden_and_unsafe_entries_are_not_runs(layout: RunsLayout) -> None:
    cli_run(layout, "0001", NEW)
    write_json(layout.cli_dir("0001") / f".{NEWER}.migrating" / "manifest.json", {"run_id": NEWER})
    write_json(layout.mcp_dir("0001") / f".{LEGACY}.migrated" / "manifest.json", {"run_id": LEGACY})

    assert [ref.run_id for ref in list_runs(layout, "0001")] == [NEW]
    with pytest.raises(InvalidInput):
        locate_run(layout, "../0001", None)


def test_no_runs(layout: RunsLayout) -> None:
    assert list_runs(layout, None) == []
    with pytest.raises(RunNotFound, match="no runs for task 0101"):
        latest_run(layout, "0101")
    with pytest.raises(RunNotFound, match="not found"):
        locate_run(layout, NEW, None)


class _Reads:
    """Which directories were listed and which files read, while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listed: list[Path] = []
        self.read: list[Path] = []
        scandir, iterdir, read_bytes = os.scandir, Path.iterdir, Path.read_bytes

        def counted_scandir(path: Any = ".") -> Any:
            self.listed.append(Path(path))
            return scandir(path)

        def counted_iterdir(path: Path) -> Any:
            self.listed.append(path)
            return iterdir(path)

        def counted_read_bytes(path: Path) -> bytes:
            self.read.append(path)
            return read_bytes(path)

        monkeypatch.setattr(os, "scandir", counted_scandir)
        monkeypatch.setattr(Path, "iterdir", counted_iterdir)
        monkeypatch.setattr(Path, "read_bytes", counted_read_bytes)

    def reset(self) -> None:
        self.listed.clear()
        self.read.clear()


@pytest.mark.slow
def test_locating_a_canonical_run_stays_cheap_among_many(
    layout: RunsLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By id: no run directory listed, no manifest read, however many runs there are.

    The latest run of a task: each run directory listed once, canonical manifests only
    looked at, and only the manifests of runs that are not canonical read.
    """
    for index in range(2000):
        cli_run(layout, "0001", f"2025-11-01T10-00-00-000Z-{index:08x}")
    for index in range(200):
        mcp_run(layout, "0001", f"2025-10-01T10-00-00-000Z-{index:08x}")
    reads = _Reads(monkeypatch)

    located = locate_run(layout, "2025-11-01T10-00-00-000Z-00000400", None)
    assert located.manifest_path == layout.run("0001", located.run_id).manifest
    assert located.source == "cli"
    # Only the runs root, to learn the tasks: not the 2200 entries of cli/ and mcp/.
    assert reads.listed == [layout.runs_dir]
    assert reads.read == []

    reads.reset()
    latest = latest_run(layout, "0001")
    assert latest.run_id == "2025-11-01T10-00-00-000Z-000007cf"
    # The 2000 canonical runs' compat pointers are skipped; the 200 older mcp
    # manifests are each read once; no canonical manifest is read.
    assert sorted(reads.listed) == sorted(
        [layout.cli_dir("0001"), layout.mcp_dir("0001"), layout.legacy_dir()]
    )
    assert len(reads.read) == len(set(reads.read)) == 200
    assert {path.parent.parent for path in reads.read} == {layout.mcp_dir("0001")}
