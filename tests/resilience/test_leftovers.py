"""No stage ever runs twice, and no process outlives its run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import psutil
import pytest

from .helpers import (
    Project,
    command_stage,
    is_gone,
    manifest_of,
    read_ndjson,
    read_pids,
    stage_record,
    wait_gone,
    wait_until,
)

pytestmark = pytest.mark.integration

# The stage of the issue: a quiet wait, then a side effect that must happen once. Its
# helper leaves the stage's process group (it stays in the session), as a job-control
# shell's jobs do, so that something of the stage outlives the group the watchdog ends.
HELPER = f"{sys.executable} -c 'import os, time; os.setpgid(0, 0); time.sleep(30)'"
DEPLOY = f"echo $$ >> pids; {HELPER} & echo $! >> pids; wait; echo x >> deployed.txt"


@pytest.mark.slow
def test_a_killed_runner_takes_its_stage_along_and_resume_runs_it_once(
    project: Project,
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    project.pipeline(command_stage("deploy", DEPLOY))
    runner = project.spawn("start", "--format", "json")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "deploy")
    wait_until(lambda: len(read_pids(pids_file)) == 2, "the stage and its sleep")
    leader, sleeper = read_pids(pids_file)
    recorded = wait_until(
        lambda: stage_record(manifest_of(run_dir), "deploy")["process_group"],
        "the manifest to record the stage's session",
    )
    assert recorded["sid"] == recorded["pgid"] == recorded["leader_pid"] == leader
    assert recorded["leader_create_time"] == pytest.approx(
        psutil.Process(leader).create_time(), abs=0.05
    )

    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()

    wait_gone([leader], "the stage's leader (its group dies with its runner)")
    status = project.cli("status", "--latest", "--format", "json")
    assert status.returncode == 0
    leftovers = orjson.loads(status.stdout)["activity"]["leftover_processes"]
    assert [(p["pid"], p["stage"]) for p in leftovers] == [(sleeper, "deploy")]
    assert not is_gone(sleeper)  # status only reports
    project.pipeline(command_stage("deploy", "echo x >> deployed.txt"))
    resume = project.cli("resume", "--run", run_dir.name, "--format", "json")
    assert resume.returncode == 0, resume.stderr
    assert is_gone(sleeper)  # ended before the stage ran again
    events = read_ndjson(run_dir / "runner.ndjson")
    (resumed,) = [e for e in events if e["type"] == "run:resume"]
    assert [p["pid"] for p in resumed["ended_processes"]] == [sleeper]
    assert (project.root / "deployed.txt").read_text() == "x\n"  # once


def _state_files(tmp: Path) -> list[Path]:
    """The watchdogs' state files in ``tmp`` (the runners' TMPDIR)."""
    return sorted(tmp.glob("codex-orchestrator-watch-*"))


def _watchdog_of(runner_pid: int) -> psutil.Process | None:
    """The runner's watchdog: its child reading the pipe, named ``watchdog`` in argv."""
    for child in psutil.Process(runner_pid).children():
        with contextlib.suppress(psutil.Error):
            if "watchdog" in child.cmdline():
                return child
    return None


def test_the_whole_group_dies_with_a_killed_runner(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = project.root / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    pids_file = project.track_pids(project.root / "pids")
    project.pipeline(command_stage("wait", "echo $$ >> pids; sleep 30 & echo $! >> pids; wait"))
    runner = project.spawn("start")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "wait")
    wait_until(lambda: len(read_pids(pids_file)) == 2, "the stage and its job")
    assert len(_state_files(tmp)) == 1

    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()

    wait_gone(read_pids(pids_file), "the stage's group (it dies with its runner)")
    wait_until(lambda: not _state_files(tmp), "the watchdog to remove its state file")


def test_a_run_whose_watchdog_was_killed_leaves_no_state_file(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone killed the watchdog (it cannot clean up): the runner's normal exit,
    with no stage listed, removes the state file itself."""
    tmp = project.root / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    project.pipeline(
        command_stage("first", "while [ ! -e go ]; do sleep 0.05; done"),
        command_stage("second", "true"),
    )
    runner = project.spawn("start")
    runner.wait_for_stage(runner.run_dir(project), "first")
    watchdog = wait_until(lambda: _watchdog_of(runner.pid), "the runner's watchdog")
    watchdog.kill()
    wait_gone([watchdog.pid], "the killed watchdog")
    assert len(_state_files(tmp)) == 1  # listing the running stage's group
    (project.root / "go").touch()

    assert runner.wait() == 0
    assert _state_files(tmp) == []


def test_background_jobs_are_ended_with_their_stage_and_named(project: Project) -> None:
    pids_file = project.track_pids(project.root / "pids")
    stage = "(sleep 30 & echo $! >> pids); echo done"
    project.pipeline(command_stage("bg", stage), command_stage("after", "true"))

    result = project.cli("start", "--format", "json")

    assert result.returncode == 0, result.stderr
    (job,) = read_pids(pids_file)
    assert is_gone(job)
    run_dir = project.only_run()
    end = next(
        e
        for e in read_ndjson(run_dir / "runner.ndjson")
        if e["type"] == "command:end" and e["index"] == 1
    )
    assert [(p["pid"], p["name"]) for p in end["ended_processes"]] == [(job, "sleep")]
    record = stage_record(manifest_of(run_dir), "bg")
    assert record["ended_processes"] == end["ended_processes"]
    assert record["summary"].endswith("(ended 1 leftover process: sleep)")
    assert record["status"] == "succeeded"


def test_a_reused_pid_is_never_touched(project: Project) -> None:
    """A recorded session whose leader pid now names another process is left alone."""
    project.pipeline(command_stage("one", "true"))
    result = project.cli("start", "--format", "json")
    assert result.returncode == 0
    run_dir = project.only_run()
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        manifest = manifest_of(run_dir)
        manifest.update(status="in_progress", completed_at=None, runner_pid=stranger.pid + 10**6)
        manifest["commands"][0].update(
            status="running",
            process_group={
                "sid": stranger.pid,
                "pgid": stranger.pid,
                "leader_pid": stranger.pid,
                "leader_create_time": psutil.Process(stranger.pid).create_time() - 100,
            },
        )
        (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))

        assert project.cli("status", "--latest").returncode == 0
        resume = project.cli("resume", "--run", run_dir.name)
        assert resume.returncode == 0, resume.stderr
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
