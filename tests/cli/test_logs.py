"""``logs``: a run's output rebuilt from its events, bytes exact; ``--follow`` on a live run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import (
    command,
    one_error_line,
    pipeline,
    run_cli_subprocess,
    run_ids,
    start_json,
    write_config,
)

# Stage one prints a non-UTF-8 byte, a line on stderr and a last line without newline.
ONE = r"printf 'caf\351\n'; echo warn >&2; printf 'no-newline'"
TWO = "echo second; echo second-err >&2"


def _logs(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", "logs", *args],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def finished(tmp_path: Path) -> tuple[Path, str]:
    write_config(tmp_path, pipeline("p", command("one", ONE), command("two", TWO)))
    result, document, _ = start_json(tmp_path, "p")
    assert result.returncode == 0, result.stderr
    return tmp_path, document["run_id"]


@pytest.mark.integration
def test_logs_prints_every_byte_in_order(finished: tuple[Path, str]) -> None:
    project, run_id = finished
    result = _logs(project, "--run", run_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"caf\xe9\nwarn\nno-newlinesecond\nsecond-err\n"


@pytest.mark.integration
def test_latest_is_the_newest_run(finished: tuple[Path, str]) -> None:
    project, run_id = finished
    assert _logs(project, "--latest").stdout == _logs(project, "--run", run_id).stdout
    for args in ((), ("--run", run_id, "--latest")):
        result = _logs(project, *args)
        assert result.returncode == 2
        assert (
            result.stderr
            == b"codex-orchestrator: error: give exactly one of --run ID or --latest\n"
        )
        assert result.stdout == b""


@pytest.mark.integration
def test_logs_of_one_stage_and_one_stream(finished: tuple[Path, str]) -> None:
    project, run_id = finished
    assert _logs(project, "--run", run_id, "--stage", "one", "--stream", "stdout").stdout == (
        b"caf\xe9\nno-newline"
    )
    assert _logs(project, "--run", run_id, "--stream", "stderr").stdout == b"warn\nsecond-err\n"
    assert _logs(project, "--run", run_id, "--stage", "two").stdout == b"second\nsecond-err\n"


@pytest.mark.integration
def test_logs_refuses_an_unknown_stage_or_run(finished: tuple[Path, str]) -> None:
    project, run_id = finished
    result = run_cli_subprocess(project, "logs", "--run", run_id, "--stage", "three")
    assert result.returncode == 2
    assert one_error_line(result) == f"--stage three: run {run_id} has no such stage (one, two)"
    missing = run_cli_subprocess(project, "logs", "--run", "2025-01-01T00-00-00-000Z-00000000")
    assert missing.returncode == 2


@pytest.mark.integration
@pytest.mark.slow
def test_follow_tails_a_live_run_and_exits_when_it_ends(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    stage = f"echo before; while [ ! -e {gate} ]; do sleep 0.05; done; echo after; exit 3"
    write_config(tmp_path, pipeline("p", command("wait", stage)))
    runner = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "p"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not run_ids(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        (run_id,) = run_ids(tmp_path)
        follower = subprocess.Popen(
            [sys.executable, "-m", "codex_orchestrator", "logs", "--run", run_id, "--follow"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert follower.stdout is not None
        os.set_blocking(follower.stdout.fileno(), True)
        assert follower.stdout.readline() == b"before\n"  # printed while the run goes on
        assert follower.poll() is None
        gate.touch()
        rest, _ = follower.communicate(timeout=60)
        assert rest == b"after\n"
        assert follower.returncode == 1  # the followed run failed
    finally:
        gate.touch()
        runner.wait(timeout=60)
