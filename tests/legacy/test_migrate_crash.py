"""Interrupted migrations: every state a kill -9 can leave is finished by a rerun, losing nothing.

The states are built by hand (what each step leaves) and, as integration tests, produced by a
real process that SIGKILLs itself at each step (``CODEX_ORCHESTRATOR_MIGRATE_KILL_AT``) or is
killed from outside while copying.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codex_orchestrator.legacy.migrate import MigrateRequest, MigrationReport, migrate
from codex_orchestrator.legacy.migrate_exec import KILL_AT_ENV, finish_move, stage_run
from codex_orchestrator.model import now_iso
from codex_orchestrator.store.layout import RunsLayout

from .trees import AGENTS, AGENTS_FAILED, LOCAL_REAL, LegacyTree, snapshot, write

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mcp-runner-migrate.py"


def rerun(root: Path) -> MigrationReport:
    return migrate(MigrateRequest(root=root, task="0001", run_id=None, dry_run=False))


def comparable(tree: dict[str, Any], runs_dir: Path) -> dict[str, Any]:
    """A snapshot with the migration timestamp taken out of rewritten manifests."""
    result = dict(tree)
    for key, value in tree.items():
        if key.endswith("/manifest.json") and "/cli/" in key and value[0] == "file":
            data = json.loads((runs_dir / key).read_text())
            data.get("migrated_from", {}).pop("migrated_at", None)
            result[key] = ("manifest", json.dumps(data, sort_keys=True))
    return result


@pytest.fixture
def expected(legacy_tree: LegacyTree, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tree an uninterrupted migration of the same runs produces."""
    build(legacy_tree)
    clean_root = tmp_path_factory.mktemp("clean")
    shutil.copytree(legacy_tree.runs, clean_root / ".runs", symlinks=True)
    rerun(clean_root)
    return comparable(snapshot(clean_root / ".runs", exclude=["migrations"]), clean_root / ".runs")


def build(tree: LegacyTree) -> None:
    tree.agents_sdk_run("0001", AGENTS)
    tree.agents_sdk_run("0001", AGENTS_FAILED, status="failed")
    tree.local_real_run(LOCAL_REAL)
    write(tree.runs / "0001" / "mcp" / AGENTS / "big.log", os.urandom(256 * 1024))


def assert_finished(tmp_path: Path, expected: dict[str, Any]) -> None:
    runs = tmp_path / ".runs"
    report = rerun(tmp_path)
    assert report.exit_code == 0, report.document["runs"]
    assert comparable(snapshot(runs, exclude=["migrations"]), runs) == expected
    again = rerun(tmp_path)
    assert {run["status"] for run in again.document["runs"]} == {"skipped"}


def test_partial_temp_copy_is_redone(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any
) -> None:
    staging = legacy_tree.runs / "0001" / "cli" / f".{AGENTS}.migrating"
    write(staging / "big.log", b"half a file")
    write(staging / "manifest.json", b"{")

    assert_finished(tmp_path, expected)


def test_renamed_into_place_but_source_not_removed(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any
) -> None:
    layout = RunsLayout.for_root(tmp_path)
    stage_run(layout, "0001", AGENTS, layout.compat_pointer("0001", AGENTS), now_iso())
    assert (layout.compat_pointer("0001", AGENTS) / "manifest.json").is_file()

    assert_finished(tmp_path, expected)


def test_source_moved_aside_before_the_pointer(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any
) -> None:
    layout = RunsLayout.for_root(tmp_path)
    source = layout.compat_pointer("0001", AGENTS)
    stage_run(layout, "0001", AGENTS, source, now_iso())
    source.rename(layout.migration_trash_dir("0001", AGENTS))

    assert_finished(tmp_path, expected)
    assert not layout.migration_trash_dir("0001", AGENTS).exists()


def test_pointer_made_but_old_copy_not_removed(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any
) -> None:
    layout = RunsLayout.for_root(tmp_path)
    source = layout.compat_pointer("0001", AGENTS)
    stage_run(layout, "0001", AGENTS, source, now_iso())
    trash = layout.migration_trash_dir("0001", AGENTS)
    source.rename(trash)
    source.symlink_to(f"../cli/{AGENTS}", target_is_directory=True)
    (trash / "big.log").unlink()  # removal had begun

    assert_finished(tmp_path, expected)
    assert not trash.exists()


def test_local_copy_renamed_but_pointer_missing(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any
) -> None:
    layout = RunsLayout.for_root(tmp_path)
    stage_run(layout, "0001", LOCAL_REAL, layout.legacy_run_dir(LOCAL_REAL), now_iso())

    assert_finished(tmp_path, expected)


def test_leftover_that_does_not_match_is_kept(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    build(legacy_tree)
    layout = RunsLayout.for_root(tmp_path)
    source = layout.compat_pointer("0001", AGENTS)
    stage_run(layout, "0001", AGENTS, source, now_iso())
    finish_move(layout, "0001", AGENTS)
    trash = layout.migration_trash_dir("0001", AGENTS)
    write(trash / "only-here.txt", "unique evidence\n")

    report = rerun(tmp_path)

    assert report.exit_code == 1
    assert (trash / "only-here.txt").read_text() == "unique evidence\n"


STEPS = ["copied", "renamed", "source-moved", "pointer-made"]


@pytest.mark.integration
@pytest.mark.parametrize("step", STEPS)
def test_real_kill_at_each_step(
    legacy_tree: LegacyTree, tmp_path: Path, expected: Any, step: str
) -> None:
    env = {**os.environ, KILL_AT_ENV: f"{step}:{AGENTS}", "MCP_RUNNER_TASK_ID": "0001"}

    killed = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, check=False
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert_finished(tmp_path, expected)


@pytest.mark.slow
@pytest.mark.integration
def test_killed_from_outside_while_copying(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    big = legacy_tree.agents_sdk_run("0001", AGENTS)
    for index in range(40):
        write(big / "chunks" / f"{index:03d}.bin", os.urandom(2 * 1024 * 1024))
    before = snapshot(legacy_tree.runs)
    staging = legacy_tree.runs / "0001" / "cli" / f".{AGENTS}.migrating"
    env = {**os.environ, "MCP_RUNNER_TASK_ID": "0001"}

    process = subprocess.Popen([sys.executable, str(SCRIPT)], cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()

    rerun(tmp_path)
    after = snapshot(legacy_tree.runs, exclude=["migrations"])
    src, dst = f"0001/mcp/{AGENTS}/", f"0001/cli/{AGENTS}/"
    for key, value in before.items():
        if key.startswith(src) and not key.endswith("/manifest.json"):
            assert after[dst + key[len(src) :]] == value, key
    assert after[f"{dst}manifest.legacy.json"] == before[f"{src}manifest.json"]
    assert after[f"0001/mcp/{AGENTS}"] == ("link", f"../cli/{AGENTS}")
    assert not staging.exists()
