"""``kill -9`` of the runner mid-stage: ``status`` sees it at once, ``resume`` finishes the run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import orjson
import pytest

from .helpers import (
    Project,
    command_stage,
    manifest_of,
    run_events,
    stage_status,
    wait_until,
)

pytestmark = pytest.mark.integration

LINES = 100_000
# Prints LINES lines in one burst, says so, then hangs on the first attempt only.
BURST = (
    "echo $$ >> pids; "
    f"seq 1 {LINES}; "
    "if [ ! -e crashed.flag ]; then touch crashed.flag printed.flag; exec sleep 300; fi; "
    "echo second-attempt"
)


def stdout_lines(events: list[dict[str, object]], index: int) -> list[str]:
    """The ``data`` of every stdout event of command ``index``."""
    return [str(e["data"]) for e in events if e["type"] == "command:stdout" and e["index"] == index]


def crash_mid_stage(project: Project) -> tuple[int, Path]:
    """Start a run, wait until the runner has logged the burst, SIGKILL the runner only."""
    project.track_pids(project.root / "pids")
    project.pipeline(command_stage("burst", BURST), command_stage("after", "echo after >> ran"))
    runner = project.spawn("start", "--format", "json")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "burst")
    wait_until((project.root / "printed.flag").exists, "the stage to print its lines")
    last = f'"data":"{LINES}"'.encode()
    log = run_dir / "runner.ndjson"

    def logged_everything() -> bool:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 4096))
            return last in handle.read()

    wait_until(logged_everything, "the runner to log the last line of the burst")
    os.kill(runner.pid, signal.SIGKILL)
    assert runner.wait() == -signal.SIGKILL
    return runner.pid, run_dir


def test_status_reports_a_killed_runner_at_once_from_its_pid(project: Project) -> None:
    runner_pid, run_dir = crash_mid_stage(project)

    result = project.cli("status", "--run", run_dir.name, "--format", "json")

    assert result.returncode == 0, result.stderr
    document = orjson.loads(result.stdout)
    assert document["status"] == "in_progress"
    activity = document["activity"]
    assert activity["runner_pid"] == runner_pid
    assert activity["runner_alive"] is False
    assert activity["lost"] is True
    # The heartbeat is still fresh: "gone" came from the pid check, not from staleness.
    assert activity["stale"] is False
    assert activity["resume_command"] is not None


def test_every_line_read_before_the_kill_is_in_the_logs(project: Project) -> None:
    _, run_dir = crash_mid_stage(project)

    expected = [str(n) for n in range(1, LINES + 1)]
    events = run_events(run_dir)
    assert stdout_lines(events, 1) == expected
    seqs = [e["seq"] for e in events if e["type"] == "command:stdout"]
    assert seqs == list(range(1, LINES + 1))
    # The per-command file may trail runner.ndjson (its copy is written in the
    # background) and SIGKILL may have cut its last write short: whole lines, in
    # order, then at most one torn fragment with no newline.
    raw = (run_dir / "commands" / "01-burst.ndjson").read_bytes()
    whole, _, fragment = raw.rpartition(b"\n")
    assert fragment == b"" or fragment.startswith(b'{"type":"command:')
    copied = [
        event["data"]
        for event in map(orjson.loads, whole.splitlines())
        if event["type"] == "command:stdout"
    ]
    assert copied == expected[: len(copied)]


def test_resume_finishes_a_run_whose_runner_was_killed(project: Project) -> None:
    _, run_dir = crash_mid_stage(project)

    result = project.cli(
        "resume", "--run", run_dir.name, "--actor", "ci-bot", "--reason", "runner crashed"
    )

    assert result.returncode == 0, result.stderr
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "succeeded"
    assert stage_status(manifest, "burst") == "succeeded"
    assert stage_status(manifest, "after") == "succeeded"
    events = manifest["resume_events"]
    assert len(events) == 1
    accepted = events[0]
    assert accepted["outcome"] == "accepted"
    assert accepted["actor"] == "ci-bot"
    assert accepted["reason"] == "runner crashed"
    assert accepted["timestamp"]
    log = run_events(run_dir)
    resumes = [e for e in log if e["type"] == "run:resume"]
    assert [(e["actor"], e["reason"]) for e in resumes] == [("ci-bot", "runner crashed")]
    # The first attempt's output is still there, followed by the second attempt's.
    first = stdout_lines(log, 1)
    assert first[:LINES] == [str(n) for n in range(1, LINES + 1)]
    assert first[-1] == "second-attempt"
    assert (project.root / "ran").read_text() == "after\n"
    metrics = project.metrics()
    assert [(m["run_id"], m["status"]) for m in metrics] == [(run_dir.name, "succeeded")]
