"""SIGINT / SIGTERM to the runner alone: the stage's whole tree ends, the run is cancelled."""

from __future__ import annotations

import os
import signal

import orjson
import pytest

from .helpers import (
    Project,
    command_stage,
    error_file,
    is_gone,
    manifest_of,
    read_pids,
    stage_record,
    stage_status,
    wait_gone,
    wait_until,
)

pytestmark = pytest.mark.integration

# A stage that leaves a tree behind it: each member appends its pid to ./pids.
#  - the stage's shell itself;
#  - a child that execs sleep, and a background job;
#  - a grandchild under an intermediate shell;
#  - a process in a session of its own (killpg of the stage's group misses it);
#  - a shell that ignores SIGTERM (only SIGKILL ends it).
TREE = (
    "echo $$ >> pids; "
    "sh -c 'echo $$ >> pids; exec sleep 300' & "
    "sleep 300 & echo $! >> pids; "
    "sh -c 'sh -c \"echo \\$\\$ >> pids; exec sleep 300\" & wait' & "
    "setsid sh -c 'echo $$ >> pids; exec sleep 300' & "
    "sh -c 'trap \"\" TERM; echo $$ >> pids; while :; do sleep 1; done' & "
    "echo tree-started; wait"
)
TREE_SIZE = 6


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_ends_the_stage_tree_and_cancels_the_run(
    project: Project, signum: signal.Signals
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    project.pipeline(command_stage("tree", TREE), command_stage("later", "touch later-ran"))
    runner = project.spawn("start", "--format", "json")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "tree")
    wait_until(lambda: len(read_pids(pids_file)) == TREE_SIZE, "every member of the tree")
    tree = read_pids(pids_file)
    assert not any(is_gone(pid) for pid in tree)

    os.kill(runner.pid, signum)  # the runner only, not its group

    assert runner.wait() == 130
    wait_gone(tree, "the stage's tree")
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "cancelled"
    assert manifest["status_detail"] == "run-canceled"
    record = stage_record(manifest, "tree")
    assert record["status"] == "failed"
    assert record["error_file"] == f".runs/0101/cli/{run_dir.name}/errors/01-tree.json"
    report = error_file(run_dir, "01-tree")
    assert report["reason"] == "cancelled"
    assert "tree-started" in report["details"]["stdout_tail"]
    assert stage_status(manifest, "later") == "pending"
    assert not (project.root / "later-ran").exists()
    assert manifest["metrics_recorded"] is True
    metrics = project.metrics()
    assert [(m["run_id"], m["status"]) for m in metrics] == [(run_dir.name, "cancelled")]
    document = orjson.loads(runner.stdout)
    assert document["status"] == "cancelled"
    assert b"Traceback" not in runner.stderr


def test_signal_during_a_child_run_cancels_child_and_parent(project: Project) -> None:
    pids_file = project.track_pids(project.root / "pids")
    project.configure(
        {
            "id": "main",
            "title": "Main",
            "stages": [
                {"kind": "subpipeline", "id": "child", "title": "Child", "pipeline": "inner"},
                command_stage("later", "touch later-ran"),
            ],
        },
        {
            "id": "inner",
            "title": "Inner",
            "stages": [command_stage("wait", "echo $$ >> pids; sleep 300 & echo $! >> pids; wait")],
        },
    )
    runner = project.spawn("start", "main", "--format", "json")
    wait_until(lambda: len(project.run_dirs()) == 2, "the child run directory")
    wait_until(lambda: len(read_pids(pids_file)) == 2, "the child stage's processes")
    tree = read_pids(pids_file)

    os.kill(runner.pid, signal.SIGTERM)

    assert runner.wait() == 130
    wait_gone(tree, "the child stage's tree")
    manifests = [manifest_of(d) for d in project.run_dirs()]
    parent = next(m for m in manifests if m["parent_run_id"] is None)
    child = next(m for m in manifests if m["parent_run_id"] is not None)
    assert child["parent_run_id"] == parent["run_id"]
    for manifest in (parent, child):
        assert manifest["status"] == "cancelled"
        assert manifest["status_detail"] == "run-canceled"
    assert stage_status(child, "wait") == "failed"
    assert stage_status(parent, "child") == "failed"
    assert [c["status"] for c in parent["child_runs"]] == ["cancelled"]
    assert not (project.root / "later-ran").exists()
    recorded = sorted((m["run_id"], m["status"]) for m in project.metrics())
    assert recorded == sorted([(parent["run_id"], "cancelled"), (child["run_id"], "cancelled")])


def test_a_cancelled_run_resumes_and_the_summary_counts_its_latest_line(
    project: Project,
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    stage = "echo $$ >> pids; if [ ! -e once ]; then touch once; exec sleep 300; fi; echo done"
    project.pipeline(command_stage("work", stage))
    runner = project.spawn("start")
    run_dir = runner.run_dir(project)
    wait_until(lambda: read_pids(pids_file), "the stage to start")
    wait_until((project.root / "once").exists, "the first attempt to mark itself")
    os.kill(runner.pid, signal.SIGINT)
    assert runner.wait() == 130

    resumed = project.cli("resume", "--run", run_dir.name)

    assert resumed.returncode == 0, resumed.stderr
    assert manifest_of(run_dir)["status"] == "succeeded"
    # One line per terminal transition of the run ...
    lines = [(m["run_id"], m["status"]) for m in project.metrics()]
    assert lines == [(run_dir.name, "cancelled"), (run_dir.name, "succeeded")]
    # ... and the summary counts the run once, by its latest line.
    summary = project.cli("metrics", "summary", "--format", "json")
    assert summary.returncode == 0, summary.stderr
    document = orjson.loads(summary.stdout)
    assert document["entries_total"] == 1
    assert document["entries_succeeded"] == 1
    assert document["entries_failed"] == 0
    assert document["entries_cancelled"] == 0


def test_a_cancelled_stage_that_exits_on_its_own_says_how(project: Project) -> None:
    """A command that traps SIGTERM and exits 1 is reported with that exit code."""
    stage = "trap 'echo bye >&2; exit 1' TERM; echo ready; while :; do sleep 0.05; done"
    project.pipeline(command_stage("trapper", stage))
    runner = project.spawn("start", "--format", "json")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "trapper")
    wait_until(lambda: b"ready" in (run_dir / "runner.ndjson").read_bytes(), "the trap to be set")

    os.kill(runner.pid, signal.SIGTERM)

    assert runner.wait() == 130
    record = stage_record(manifest_of(run_dir), "trapper")
    assert (record["exit_code"], record["signal"]) == (1, None)
    assert record["summary"] == "Cancelled (exited with code 1) — bye"
    assert "unknown" not in record["summary"]
