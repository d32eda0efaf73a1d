"""CPU and memory per command; a cancelled run ends its commands and still records itself."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psutil
import pytest
from helpers import (
    RunFiles,
    command,
    output_bytes,
    pipeline,
    start_json,
    write_config,
)

pytestmark = pytest.mark.integration

PY = shlex.quote(sys.executable)
ALLOCATE = f'{PY} -c "b = bytearray(50_000_000); b[::4096] = bytes(len(b[::4096])); print(len(b))"'
# How long a test waits for a run to reach a state before giving up (not a timing assertion).
PATIENCE_SECONDS = 30


@pytest.fixture
def ballast() -> Iterator[bytearray]:
    """200 MB held (and touched) by the test process while it starts the CLI.

    A process inherits its launcher's memory high-water mark in ``ru_maxrss`` when it
    is exec-ed; the runner must not mistake that figure for its own.
    """
    block = bytearray(200_000_000)
    block[::4096] = bytes(len(block[::4096]))
    yield block
    del block


def test_every_command_reports_its_resources(tmp_path: Path, ballast: bytearray) -> None:
    """cpu_seconds >= 0 for each command; a 50 MB allocation shows in peak_rss_bytes."""
    write_config(tmp_path, pipeline("mem", command("small", "true"), command("big", ALLOCATE)))
    result, _, run = start_json(tmp_path)
    assert len(ballast) == 200_000_000
    assert result.returncode == 0, result.stderr
    manifest = run.manifest()
    small, big = manifest["commands"]
    for record in (small, big):
        assert record["resources"]["cpu_seconds"] >= 0
    # ``true`` is not charged with the runner's own memory (tens of MB).
    small_rss = small["resources"]["peak_rss_bytes"]
    assert small_rss is None or 0 < small_rss < 20_000_000  # null when not measured, never 0
    assert big["resources"]["peak_rss_bytes"] >= 50_000_000
    assert manifest["resources"]["peak_rss_bytes"] >= 50_000_000
    assert manifest["resources"]["cpu_seconds"] >= big["resources"]["cpu_seconds"]
    ends = [event for event in run.events() if event["type"] == "command:end"]
    assert ends[1]["resources"] == big["resources"]
    (line,) = run.metrics_lines()
    assert line["resources"] == manifest["resources"]


def _printed(log: Path, text: str) -> bool:
    """Whether the run's events hold an output line ``text`` (a half-written line ignored)."""
    if not log.exists():
        return False
    raw = log.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    return any(orjson.loads(line).get("data") == text for line in complete.splitlines())


def _wait_for_output(run_dir: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    """Block until a stage has printed ``text`` (the runner's events say so)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not _printed(run_dir / "runner.ndjson", text):
        if proc.poll() is not None:
            pytest.fail(f"runner exited early: {proc.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"stage never printed {text!r}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_run_and_ends_its_commands(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM: the command's tree is ended, the run is ``cancelled``, exit 130."""
    write_config(
        tmp_path,
        pipeline(
            "long",
            command("wait", "sleep 60 & echo child=$!; echo ready; wait"),
            command("never", "true"),
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        cli_dir = tmp_path / ".runs" / "0101" / "cli"
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not (cli_dir.is_dir() and any(cli_dir.iterdir())):
            assert time.monotonic() < deadline, "no run directory appeared"
            time.sleep(0.05)
        (run_dir,) = cli_dir.iterdir()
        _wait_for_output(run_dir, "ready", proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=PATIENCE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr.decode()
    document = orjson.loads(stdout)
    assert (document["status"], document["status_detail"]) == ("cancelled", "run-canceled")
    assert document["summary"].splitlines()[0] == f"Run cancelled by {sig.name}."
    run = RunFiles(tmp_path, "0101", run_dir.name)
    manifest = run.manifest()
    assert manifest["status"] == "cancelled"
    assert [record["status"] for record in manifest["commands"]] == ["failed", "pending"]
    assert manifest["metrics_recorded"] is True
    (line,) = run.metrics_lines()
    assert line["status"] == "cancelled"
    assert run.error("01-wait")["reason"] == "cancelled"
    assert run.events()[-1]["type"] == "run:end"
    child_line = next(
        event["data"] for event in run.events() if event.get("data", "").startswith("child=")
    )
    child_pid = int(child_line.removeprefix("child="))
    assert not _alive(child_pid), "the stage's background sleep outlived the run"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_runner_pid_is_the_process_that_ran(tmp_path: Path) -> None:
    """The manifest names the runner's pid (the process ``status`` checks for liveness)."""
    write_config(tmp_path, pipeline("p", command("pid", "echo $PPID")))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    parent_of_stage = int(output_bytes(run.command_events("01-pid"), "stdout"))
    manifest = run.manifest()
    assert manifest["runner_pid"] == parent_of_stage
    assert isinstance(manifest["runner_create_time"], float)
    assert not _alive(parent_of_stage)
