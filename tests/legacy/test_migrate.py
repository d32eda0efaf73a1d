"""``migrate`` on trees holding every older shape: nothing lost, nothing unknown touched."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from codex_orchestrator.errors import ExitCode, InvalidInput, LockTimeout, RunNotFound
from codex_orchestrator.legacy import migrate as migrate_module
from codex_orchestrator.legacy.migrate import MigrateRequest, MigrationReport, migrate
from codex_orchestrator.store.catalog import list_runs, locate_run
from codex_orchestrator.store.layout import RunsLayout

from .trees import (
    AGENTS,
    AGENTS_FAILED,
    EARLY,
    LOCAL_REAL,
    OTHER,
    LegacyTree,
    dump,
    snapshot,
    write,
)

MOVED = (AGENTS, AGENTS_FAILED, EARLY)
LOG_KEYS = {
    "version",
    "generated_at",
    "dry_run",
    "task_id",
    "repo_root",
    "legacy_root",
    "task_runs_root",
    "runs",
}
RUN_KEYS = {"run_id", "source", "destination", "status", "message"}


def run_migration(
    root: Path, *, dry_run: bool = False, run_id: str | None = None, task: str = "0001"
) -> MigrationReport:
    return migrate(MigrateRequest(root=root, task=task, run_id=run_id, dry_run=dry_run))


def by_source(report: MigrationReport) -> dict[str, dict[str, Any]]:
    return {run["source"]: run for run in report.document["runs"]}


def assert_moved_intact(before: dict[str, Any], after: dict[str, Any], src: str, dst: str) -> None:
    """Every entry of the old run directory is at the new place with the same bytes and mode."""
    moved = {
        key[len(src) + 1 :]: value for key, value in before.items() if key.startswith(src + "/")
    }
    assert moved, f"nothing under {src}"
    for relative, value in moved.items():
        target = f"{dst}/{relative}"
        if relative == "manifest.json" and f"{dst}/manifest.legacy.json" in after:
            target = f"{dst}/manifest.legacy.json"
        assert after.get(target) == value, f"{relative} changed on its way to {dst}"


def test_every_shape_migrates_without_losing_a_byte(
    fixture_like: LegacyTree, tmp_path: Path
) -> None:
    runs = fixture_like.runs
    before = snapshot(runs)

    report = run_migration(tmp_path)

    after = snapshot(runs, exclude=["migrations"])
    for run_id in MOVED:
        assert_moved_intact(before, after, f"0001/mcp/{run_id}", f"0001/cli/{run_id}")
        assert after[f"0001/mcp/{run_id}"] == ("link", f"../cli/{run_id}")
    assert_moved_intact(before, after, f"local-mcp/{LOCAL_REAL}", f"0001/cli/{LOCAL_REAL}")
    assert after[f"0001/mcp/{LOCAL_REAL}"] == ("link", f"../cli/{LOCAL_REAL}")
    for key, value in before.items():
        if key.startswith(("local-mcp", "3")):
            assert after[key] == value, f"{key} was touched"
    assert not [key for key in after if ".migrating" in key or ".migrated" in key]
    statuses = {source: run["status"] for source, run in by_source(report).items()}
    assert statuses == {
        f".runs/0001/mcp/{AGENTS}": "migrated",
        f".runs/0001/mcp/{AGENTS_FAILED}": "migrated",
        f".runs/0001/mcp/{EARLY}": "migrated",
        f".runs/local-mcp/{LOCAL_REAL}": "migrated",
        f".runs/local-mcp/{EARLY}": "skipped",
        f".runs/3/{OTHER}": "skipped",
    }
    assert report.exit_code is ExitCode.OK


def test_unknown_format_is_reported_with_its_reason(
    fixture_like: LegacyTree, tmp_path: Path
) -> None:
    report = run_migration(tmp_path)

    other = by_source(report)[f".runs/3/{OTHER}"]
    assert other["run_id"] == OTHER
    assert other["destination"] is None
    assert "unrecognised layout" in other["message"]
    assert "left alone" in other["message"]
    assert not (tmp_path / ".runs" / "3" / "migrations").exists()


def test_rewritten_manifest_keeps_every_field_and_fixes_paths(
    fixture_like: LegacyTree, tmp_path: Path
) -> None:
    run_migration(tmp_path)

    run_dir = tmp_path / ".runs" / "0001" / "cli" / AGENTS
    original = json.loads((run_dir / "manifest.legacy.json").read_text())
    rewritten = json.loads((run_dir / "manifest.json").read_text())
    new_root = f".runs/0001/cli/{AGENTS}"
    assert rewritten["artifact_root"] == new_root
    assert rewritten["compat_path"] == f".runs/0001/mcp/{AGENTS}"
    assert rewritten["runner_log"] == f"{new_root}/runner.log"
    assert [c["response_file"] for c in rewritten["commands"]] == [
        f"{new_root}/01-npm-run-build.json",
        f"{new_root}/02-npm-run-lint.json",
    ]
    assert rewritten["migrated_from"]["path"] == f".runs/0001/mcp/{AGENTS}"
    assert rewritten["migrated_from"]["legacy_manifest"] == "manifest.legacy.json"
    untouched = set(original) - {"artifact_root", "compat_path", "runner_log", "commands"}
    for key in untouched:
        assert rewritten[key] == original[key], key
    assert rewritten["commands"][0]["summary"] == "Sommaire — ok ✓"
    for path in (rewritten["runner_log"], *(c["response_file"] for c in rewritten["commands"])):
        assert (tmp_path / path).is_file()


def test_bare_early_manifest_gets_its_identity(fixture_like: LegacyTree, tmp_path: Path) -> None:
    run_migration(tmp_path)

    run_dir = tmp_path / ".runs" / "0001" / "cli" / EARLY
    rewritten = json.loads((run_dir / "manifest.json").read_text())
    assert rewritten["run_id"] == EARLY
    assert rewritten["task_id"] == "0001"
    assert rewritten["mode"] == "mcp"
    assert "status" not in rewritten  # unknown stays unknown, never invented
    local = json.loads((run_dir / "manifest.legacy.json").read_text())
    assert "run_id" not in local


def test_local_mcp_pointer_still_reaches_the_run_after_migration(
    fixture_like: LegacyTree, tmp_path: Path
) -> None:
    run_migration(tmp_path)

    pointer = tmp_path / ".runs" / "local-mcp" / EARLY / "manifest.json"
    assert json.loads(pointer.read_text())["run_id"] == EARLY
    layout = RunsLayout.for_root(tmp_path)
    ref = locate_run(layout, EARLY, None)
    assert ref.source == "cli"
    assert ref.manifest_path == layout.run("0001", EARLY).manifest


def test_second_run_changes_nothing(fixture_like: LegacyTree, tmp_path: Path) -> None:
    run_migration(tmp_path)
    first = snapshot(fixture_like.runs, exclude=["migrations"])

    report = run_migration(tmp_path)

    assert snapshot(fixture_like.runs, exclude=["migrations"]) == first
    assert {run["status"] for run in report.document["runs"]} == {"skipped"}
    messages = by_source(report)
    assert "already in the current layout" in messages[f".runs/0001/mcp/{AGENTS}"]["message"]
    assert "already copied" in messages[f".runs/local-mcp/{LOCAL_REAL}"]["message"]
    logs = sorted(p.name for p in (fixture_like.runs / "0001" / "migrations").glob("*.log"))
    assert len(logs) == 2
    assert all(name.endswith("-migration.log") for name in logs)


def test_dry_run_changes_nothing_but_its_log(fixture_like: LegacyTree, tmp_path: Path) -> None:
    before = snapshot(fixture_like.runs)

    report = run_migration(tmp_path, dry_run=True)

    after = snapshot(fixture_like.runs)
    added = {key for key in after if key not in before}
    assert report.log_path is not None
    assert added == {"0001/migrations", f"0001/migrations/{report.log_path.name}"}
    assert {key: after[key] for key in before} == before
    assert report.log_path.name.endswith("-dry-run.log")
    statuses = {source: run["status"] for source, run in by_source(report).items()}
    assert statuses[f".runs/0001/mcp/{AGENTS}"] == "planned"
    assert statuses[f".runs/local-mcp/{LOCAL_REAL}"] == "planned"
    assert statuses[f".runs/3/{OTHER}"] == "skipped"


def test_log_document_has_the_documented_shape(fixture_like: LegacyTree, tmp_path: Path) -> None:
    report = run_migration(tmp_path)

    assert report.log_path is not None
    logged = json.loads(report.log_path.read_bytes())
    assert logged == report.document
    assert set(logged) == LOG_KEYS
    assert logged["dry_run"] is False
    assert logged["task_id"] == "0001"
    assert logged["repo_root"] == str(tmp_path.resolve())
    assert logged["legacy_root"] == ".runs/local-mcp"
    assert logged["task_runs_root"] == ".runs/0001/cli"
    assert all(set(run) == RUN_KEYS for run in logged["runs"])
    assert {run["status"] for run in logged["runs"]} <= {"planned", "skipped", "migrated", "error"}
    assert report.log_path is not None
    assert report.log_path.parent == tmp_path / ".runs" / "0001" / "migrations"


def test_run_id_migrates_one_run_only(fixture_like: LegacyTree, tmp_path: Path) -> None:
    report = run_migration(tmp_path, run_id=AGENTS)

    assert [run["run_id"] for run in report.document["runs"]] == [AGENTS]
    mcp = fixture_like.runs / "0001" / "mcp"
    assert (mcp / AGENTS).is_symlink()
    assert not (mcp / AGENTS_FAILED).is_symlink()
    assert (mcp / AGENTS_FAILED / "manifest.json").is_file()


def test_unknown_run_id_is_refused_and_nothing_written(
    fixture_like: LegacyTree, tmp_path: Path
) -> None:
    before = snapshot(fixture_like.runs)

    with pytest.raises(RunNotFound, match="not found"):
        run_migration(tmp_path, run_id="2030-01-01T00-00-00-000Z-deadbeef")

    assert snapshot(fixture_like.runs) == before


@pytest.mark.parametrize("task", ["../x", ".hidden", "", "a/b"])
def test_bad_task_id_is_refused(fixture_like: LegacyTree, tmp_path: Path, task: str) -> None:
    before = snapshot(fixture_like.runs)

    with pytest.raises(InvalidInput):
        run_migration(tmp_path, task=task)

    assert snapshot(fixture_like.runs) == before


def test_symlinks_inside_runs_stay_valid_or_are_repointed(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    entry = legacy_tree.local_real_run(LOCAL_REAL, task="0001")
    moved = legacy_tree.agents_sdk_run("0001", AGENTS)
    write(legacy_tree.runs / "shared.txt", "shared evidence\n")
    for run_dir in (entry, moved):
        (run_dir / "link-out").symlink_to(
            "../../shared.txt" if run_dir == entry else "../../../shared.txt"
        )
        (run_dir / "link-in").symlink_to("runner.log")
        (run_dir / "abs-in").symlink_to(run_dir / "poll.json")
        (run_dir / "sub").mkdir()
        (run_dir / "sub" / "up").symlink_to("../poll.json")
    expected = {
        run_dir: {name: (run_dir / name).read_bytes() for name in ("link-out", "link-in", "abs-in")}
        for run_dir in (entry, moved)
    }

    report = run_migration(tmp_path)

    copied = legacy_tree.runs / "0001" / "cli" / LOCAL_REAL
    assert os.readlink(copied / "link-out") == "../../../shared.txt"
    assert os.readlink(copied / "abs-in") == "poll.json"
    assert os.readlink(copied / "link-in") == "runner.log"
    assert os.readlink(copied / "sub" / "up") == "../poll.json"
    for run_dir, new_dir in ((entry, copied), (moved, legacy_tree.runs / "0001" / "cli" / AGENTS)):
        for name, content in expected[run_dir].items():
            assert (new_dir / name).read_bytes() == content, f"{new_dir.name}/{name}"
    assert os.readlink(entry / "link-out") == "../../shared.txt"  # local-mcp untouched
    assert "symlink(s) re-pointed" in by_source(report)[f".runs/local-mcp/{LOCAL_REAL}"]["message"]


def test_file_modes_and_readonly_directories_survive(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    run_dir = legacy_tree.agents_sdk_run("0001", AGENTS)
    write(run_dir / "frozen" / "evidence.txt", "keep me\n", mode=0o444)
    (run_dir / "frozen").chmod(0o555)
    before = snapshot(legacy_tree.runs)

    try:
        report = run_migration(tmp_path)
    finally:
        for path in (run_dir / "frozen", legacy_tree.runs / "0001" / "cli" / AGENTS / "frozen"):
            if path.is_dir():
                path.chmod(0o755)

    assert report.exit_code is ExitCode.OK
    after = snapshot(legacy_tree.runs, exclude=["migrations"])
    assert_moved_intact(before, after, f"0001/mcp/{AGENTS}", f"0001/cli/{AGENTS}")
    assert after[f"0001/cli/{AGENTS}/.resume-token"][2] == 0o600
    assert after[f"0001/cli/{AGENTS}/frozen/evidence.txt"][2] == 0o444


def test_conflicting_destination_is_an_error_and_both_are_kept(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS)
    write(legacy_tree.runs / "0001" / "cli" / AGENTS / "manifest.json", dump({"run_id": "other"}))
    before = snapshot(legacy_tree.runs)

    report = run_migration(tmp_path)

    assert report.exit_code is ExitCode.RUN_FAILED
    run = by_source(report)[f".runs/0001/mcp/{AGENTS}"]
    assert run["status"] == "error"
    assert "differs" in run["message"]
    assert snapshot(legacy_tree.runs, exclude=["migrations"]) == before


def test_active_run_is_left_alone(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    from codex_orchestrator.model import now_iso

    legacy_tree.agents_sdk_run(
        "0001", AGENTS, status="in_progress", extra={"heartbeat_at": now_iso()}
    )

    report = run_migration(tmp_path)

    run = by_source(report)[f".runs/0001/mcp/{AGENTS}"]
    assert run["status"] == "skipped"
    assert "looks active" in run["message"]
    assert (legacy_tree.runs / "0001" / "mcp" / AGENTS / "manifest.json").is_file()
    assert not (legacy_tree.runs / "0001" / "cli").exists()


def test_stub_pointer_where_symlinks_fail(
    legacy_tree: LegacyTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS)

    def refuse(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    report = run_migration(tmp_path)
    monkeypatch.undo()

    assert report.exit_code is ExitCode.OK
    stub = json.loads((legacy_tree.runs / "0001" / "mcp" / AGENTS / "manifest.json").read_text())
    assert stub["redirect_to"] == f"../cli/{AGENTS}"
    assert stub["manifest"] == f"../cli/{AGENTS}/manifest.json"
    layout = RunsLayout.for_root(tmp_path)
    assert [ref.source for ref in list_runs(layout, "0001")] == ["cli"]
    again = run_migration(tmp_path)
    assert {run["status"] for run in again.document["runs"]} == {"skipped"}


def test_unrecognised_entries_are_skipped_with_reasons(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    mcp = legacy_tree.runs / "0001" / "mcp"
    write(mcp / "2025-10-20T00-00-00Z" / "notes.txt", "no manifest here\n")
    write(mcp / "2025-10-21T00-00-00Z" / "manifest.json", dump({"task": {"id": 1}}))
    write(mcp / "stray-file", "x")
    (mcp / "2025-10-22T00-00-00Z").symlink_to("../cli/missing")
    write(legacy_tree.runs / "0001" / "2025-10-23T00-00-00Z" / "a.log", "x")
    legacy_tree.agents_sdk_run("0002", AGENTS)
    legacy_tree.local_real_run(LOCAL_REAL, task="0002")
    before = snapshot(legacy_tree.runs)

    report = run_migration(tmp_path)

    runs = by_source(report)
    assert {run["status"] for run in runs.values()} == {"skipped"}
    assert "no manifest.json" in runs[".runs/0001/mcp/2025-10-20T00-00-00Z"]["message"]
    assert "known shape" in runs[".runs/0001/mcp/2025-10-21T00-00-00Z"]["message"]
    assert "not a directory" in runs[".runs/0001/mcp/stray-file"]["message"]
    assert "broken compat pointer" in runs[".runs/0001/mcp/2025-10-22T00-00-00Z"]["message"]
    assert "not part of the run layout" in runs[".runs/0001/2025-10-23T00-00-00Z"]["message"]
    assert "--task 0002" in runs[".runs/0002/mcp"]["message"]
    assert "--task 0002" in runs[f".runs/local-mcp/{LOCAL_REAL}"]["message"]
    after = snapshot(legacy_tree.runs, exclude=["migrations"])
    assert after == before


def test_run_in_both_mcp_and_local_mcp_is_moved_once(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS)
    legacy_tree.local_real_run(AGENTS, task="0001")
    local_before = snapshot(legacy_tree.runs / "local-mcp")

    report = run_migration(tmp_path)

    runs = by_source(report)
    assert runs[f".runs/0001/mcp/{AGENTS}"]["status"] == "migrated"
    local = runs[f".runs/local-mcp/{AGENTS}"]
    assert local["status"] == "error"
    assert "differs" in local["message"]
    assert snapshot(legacy_tree.runs / "local-mcp") == local_before
    assert (legacy_tree.runs / "0001" / "cli" / AGENTS / "manifest.legacy.json").is_file()


def test_same_run_in_mcp_and_local_mcp_byte_for_byte_is_not_an_error(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    source = legacy_tree.agents_sdk_run("0001", AGENTS)
    shutil.copytree(source, legacy_tree.runs / "local-mcp" / AGENTS, symlinks=True)

    report = run_migration(tmp_path)

    runs = by_source(report)
    assert runs[f".runs/0001/mcp/{AGENTS}"]["status"] == "migrated"
    assert runs[f".runs/local-mcp/{AGENTS}"]["status"] == "skipped"
    assert "already copied" in runs[f".runs/local-mcp/{AGENTS}"]["message"]
    assert report.exit_code is ExitCode.OK


def test_nothing_to_migrate_still_logs(tmp_path: Path) -> None:
    """A task that exists but has nothing to move is logged; one that does not, is not."""
    (tmp_path / ".runs" / "0101").mkdir(parents=True)
    report = run_migration(tmp_path, task="0101")

    assert report.document["runs"] == []
    assert report.log_path is not None
    assert report.log_path.is_file()
    assert report.exit_code is ExitCode.OK


def test_a_second_migration_waits_for_the_lock(
    fixture_like: LegacyTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate_module, "LOCK_TIMEOUT_SECONDS", 0.1)
    layout = RunsLayout.for_root(tmp_path)
    layout.migrations_dir("0001").mkdir(parents=True)
    before = snapshot(fixture_like.runs, exclude=["migrations"])

    with FileLock(layout.migration_lock("0001")), pytest.raises(LockTimeout):
        run_migration(tmp_path)

    assert snapshot(fixture_like.runs, exclude=["migrations"]) == before


def test_task_from_environment(
    fixture_like: LegacyTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_RUNNER_TASK_ID", "0001")

    report = migrate(MigrateRequest(root=tmp_path, task=None, run_id=None, dry_run=True))

    assert report.document["task_id"] == "0001"
    assert report.log_path is not None
    assert report.log_path.parent == tmp_path / ".runs" / "0001" / "migrations"
