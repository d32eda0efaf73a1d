"""The Dask executor against a real cluster of worker processes in the test process.

The package's ``LocalCluster(processes=True)`` (conftest.py) serves the tests; the
runner is the real CLI in a subprocess, pointed at it with ``--scheduler``. Each test asserts on the
evidence a reviewer reads: the manifest (with the worker of each stage), the events,
the command files, the error files, and the processes left on the workers' host.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest
from helpers import (
    RunFiles,
    command,
    json_document,
    one_error_line,
    only_run,
    output_bytes,
    pipeline,
    run_cli_subprocess,
    start_json,
    write_config,
)

from codex_orchestrator.store.journal import merge_journal

from .procs import process_ended

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

pytestmark = [pytest.mark.slow, pytest.mark.integration]

# How long a test waits for a run to reach a state (not a timing assertion).
PATIENCE_SECONDS = 60
MARK = "CODEX_ORCHESTRATOR_DASK_TASK"


def _start(project: Path, cluster: Any, *args: str) -> tuple[Any, dict[str, Any], RunFiles]:
    return start_json(project, "--scheduler", cluster.scheduler_address, *args)


def _popen_start(project: Path, cluster: Any, *args: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"]
    argv += ["--scheduler", cluster.scheduler_address, *args]
    return subprocess.Popen(argv, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run_dir(project: Path, proc: subprocess.Popen[bytes]) -> Path:
    cli_dir = project / ".runs" / "0101" / "cli"
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not (cli_dir.is_dir() and any(cli_dir.iterdir())):
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, "no run directory appeared"
        time.sleep(0.05)
    (run_dir,) = cli_dir.iterdir()
    return run_dir


def _lines(run_dir: Path) -> list[dict[str, Any]]:
    log = run_dir / "runner.ndjson"
    if not log.exists():
        return []
    raw = log.read_bytes()
    return [orjson.loads(line) for line in raw[: raw.rfind(b"\n") + 1].splitlines()]


def _wait_for_line(run_dir: Path, text: str, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        for event in _lines(run_dir):
            if event.get("data") == text:
                return event
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, f"no stage printed {text!r}"
        time.sleep(0.05)


def _wait_for_line_prefix(run_dir: Path, prefix: str, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        for event in _lines(run_dir):
            if str(event.get("data", "")).startswith(prefix):
                return str(event["data"])
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, f"no stage printed {prefix!r}..."
        time.sleep(0.05)


def _marked(where: Path) -> list[psutil.Process]:
    """Live processes started by a Dask stage in ``where`` (their environment has the mark).

    Only this test's: other test runs on the machine may have stages of their own.
    """
    found = []
    for proc in psutil.process_iter():
        try:
            if MARK in proc.environ() and Path(proc.cwd()).is_relative_to(where):
                found.append(proc)
        except (psutil.Error, OSError):
            continue  # gone, or a zombie (it has no cwd any more)
    return found


def _finish(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    try:
        return proc.communicate(timeout=PATIENCE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Collect:
    """A sink keeping what each stream sent, in order."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def write(self, stream: str, data: bytes) -> None:
        self.data[stream] += data


def test_parallel_stages_spread_over_the_workers(tmp_path: Path, cluster: Any) -> None:
    """Three stages submitted at once (as the stage loop does) run at once, on both workers."""
    from codex_orchestrator.engine.executor import CommandRequest
    from codex_orchestrator.engine.signals import CancelWatch
    from codex_orchestrator.executors.dask import DaskExecutor
    from codex_orchestrator.executors.dask_cluster import DaskSettings

    # Each waits until all three have started: only running at once ends the wait.
    meet = (
        "touch {me}; for i in $(seq 1 600); do "
        "[ -e a ] && [ -e b ] && [ -e c ] && break; sleep 0.05; done; "
        "[ -e a ] && [ -e b ] && [ -e c ] && echo met {me} && echo to-stderr {me} >&2"
    )
    env = {**os.environ, "CODEX_ORCHESTRATOR_RUN_DIR": str(tmp_path)}
    executor = DaskExecutor.open(DaskSettings(scheduler=cluster.scheduler_address))
    results: dict[str, Any] = {}
    sinks = {me: _Collect() for me in "abc"}
    try:
        with CancelWatch() as cancel:

            def stage(me: str, index: int) -> None:
                request = CommandRequest(
                    argv=("/bin/sh", "-c", meet.format(me=me)),
                    cwd=tmp_path,
                    env=env,
                    stage_id=me,
                    index=index,
                )
                results[me] = executor.run(request, sinks[me], cancel)

            threads = [
                threading.Thread(target=stage, args=(me, index))
                for index, me in enumerate("abc", start=1)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=PATIENCE_SECONDS)
    finally:
        executor.close()
    with distributed.Client(cluster, set_as_default=False) as client:
        workers = set(client.scheduler_info()["workers"])
    for me in "abc":
        outcome = results[me]
        assert (outcome.exit_code, outcome.worker_lost) == (0, False)
        assert outcome.worker in workers
        assert sinks[me].data == {
            "stdout": f"met {me}\n".encode(),
            "stderr": f"to-stderr {me}\n".encode(),
        }
    assert len({results[me].worker for me in "abc"}) == 2


def test_cancel_reaches_running_and_queued_stages(tmp_path: Path, cluster: Any) -> None:
    """Five stages on four worker threads: cancel ends the four and drops the queued one."""
    from codex_orchestrator.engine.executor import CommandRequest
    from codex_orchestrator.engine.signals import CancelWatch
    from codex_orchestrator.executors.dask import DaskExecutor
    from codex_orchestrator.executors.dask_cluster import DaskSettings

    env = {**os.environ, "CODEX_ORCHESTRATOR_RUN_DIR": str(tmp_path)}
    executor = DaskExecutor.open(DaskSettings(scheduler=cluster.scheduler_address))
    results: dict[int, Any] = {}
    try:
        with CancelWatch() as cancel:

            def stage(index: int) -> None:
                request = CommandRequest(
                    argv=("/bin/sh", "-c", "sleep 300"), cwd=tmp_path, env=env, index=index
                )
                results[index] = executor.run(request, _Collect(), cancel)

            threads = [threading.Thread(target=stage, args=(i,)) for i in range(1, 6)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + PATIENCE_SECONDS
            while len(_marked(tmp_path)) < 4:
                assert time.monotonic() < deadline, "four stages never ran at once"
                time.sleep(0.05)
            cancel.request("SIGTERM")
            for thread in threads:
                thread.join(timeout=PATIENCE_SECONDS)
    finally:
        executor.close()
    assert sorted(results) == [1, 2, 3, 4, 5]
    assert all(outcome.cancelled for outcome in results.values())
    ran = [outcome for outcome in results.values() if outcome.worker is not None]
    assert len(ran) == 4
    assert all(outcome.signal == "SIGTERM" for outcome in ran)
    assert not _marked(tmp_path), "processes left on workers"


def test_a_sink_that_fails_ends_the_stage_on_its_worker(tmp_path: Path, cluster: Any) -> None:
    """The runner cannot write evidence (disk full): the error propagates, nothing runs on."""
    from codex_orchestrator.engine.executor import CommandRequest
    from codex_orchestrator.engine.signals import CancelWatch
    from codex_orchestrator.errors import StoreError
    from codex_orchestrator.executors.dask import DaskExecutor
    from codex_orchestrator.executors.dask_cluster import DaskSettings

    class Full:
        def write(self, stream: str, data: bytes) -> None:
            raise StoreError("cannot write run events: No space left on device")

    env = {**os.environ, "CODEX_ORCHESTRATOR_RUN_DIR": str(tmp_path)}
    request = CommandRequest(
        argv=("/bin/sh", "-c", "echo ready; sleep 300"), cwd=tmp_path, env=env, index=1
    )
    executor = DaskExecutor.open(DaskSettings(scheduler=cluster.scheduler_address))
    try:
        with CancelWatch() as cancel, pytest.raises(StoreError):
            executor.run(request, Full(), cancel)
        deadline = time.monotonic() + PATIENCE_SECONDS
        while _marked(tmp_path):
            assert time.monotonic() < deadline, "the stage ran on after its runner gave up"
            time.sleep(0.05)
    finally:
        executor.close()


def test_output_reaches_the_events_while_the_stage_runs(tmp_path: Path, cluster: Any) -> None:
    """A line printed on a worker is in runner.ndjson before the stage goes on."""
    write_config(
        tmp_path,
        pipeline(
            "live",
            command(
                "talk",
                "echo first; while [ ! -e go ]; do sleep 0.05; done; echo second",
            ),
        ),
    )
    proc = _popen_start(tmp_path, cluster)
    try:
        run_dir = _run_dir(tmp_path, proc)
        first = _wait_for_line(run_dir, "first", proc)
        # The manifest is rewritten at most once a second; readers merge the journal.
        manifest = merge_journal(orjson.loads((run_dir / "manifest.json").read_bytes()), run_dir)
        assert manifest["commands"][0]["status"] == "running"
        assert not any(event.get("data") == "second" for event in _lines(run_dir))
        (tmp_path / "go").touch()
        stdout, stderr = _finish(proc)
    finally:
        (tmp_path / "go").touch()
    assert proc.returncode == 0, stderr.decode()
    assert orjson.loads(stdout)["status"] == "succeeded"
    assert first["type"] == "command:stdout"
    assert first["index"] == 1
    run = RunFiles(tmp_path, "0101", run_dir.name)
    assert output_bytes(run.command_events("01-talk"), "stdout") == b"first\nsecond\n"


def test_a_failing_stage_leaves_an_error_file(tmp_path: Path, cluster: Any) -> None:
    """Exit 3 on a worker: the stage fails with its tails, the run fails (exit 1)."""
    write_config(
        tmp_path,
        pipeline(
            "bad",
            command("boom", "echo partial-output; echo broke here >&2; exit 3"),
            command("after", "echo never"),
        ),
    )
    result, document, run = _start(tmp_path, cluster)
    assert result.returncode == 1, result.stderr
    assert document["status"] == "failed"
    boom, after = run.manifest()["commands"]
    assert (boom["status"], boom["exit_code"]) == ("failed", 3)
    assert boom["summary"] == "Exited with code 3 — broke here"
    assert boom["worker"].startswith("tcp://")
    assert after["status"] == "pending"
    error = run.error("01-boom")
    assert error["reason"] == "command-failed"
    assert error["details"]["stdout_tail"] == "partial-output\n"
    assert error["details"]["stderr_tail"] == "broke here\n"


def test_a_stage_over_its_timeout_is_ended_on_the_worker(tmp_path: Path, cluster: Any) -> None:
    """timeoutMs: the worker ends the stage's process group; reason command-timeout."""
    write_config(
        tmp_path,
        pipeline(
            "slow",
            command("nap", "sleep 120 & echo child=$!; wait", timeoutMs=1500),
        ),
    )
    result, _, run = _start(tmp_path, cluster)
    assert result.returncode == 1, result.stderr
    (record,) = run.manifest()["commands"]
    assert record["status"] == "failed"
    assert record["signal"] == "SIGTERM"
    assert record["summary"].startswith("Timed out after 1500ms")
    # Measured on the worker: the shell and its sleep, sampled while they ran.
    assert record["resources"]["peak_rss_bytes"] > 0
    assert record["resources"]["cpu_seconds"] >= 0
    assert run.error("01-nap")["reason"] == "command-timeout"
    child = int(output_bytes(run.command_events("01-nap"), "stdout").split(b"=")[1])
    assert process_ended(child)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cancel_ends_the_stage_on_its_worker(
    tmp_path: Path, cluster: Any, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM to the runner: the stage's whole tree on the worker is ended."""
    write_config(
        tmp_path,
        pipeline(
            "hold",
            command("hold", "sleep 300 & echo child=$!; (sleep 300; echo) | cat; wait"),
            command("later", "echo never"),
        ),
    )
    proc = _popen_start(tmp_path, cluster)
    run_dir = _run_dir(tmp_path, proc)
    child = int(_wait_for_line_prefix(run_dir, "child=", proc).split("=")[1])
    deadline = time.monotonic() + PATIENCE_SECONDS
    while len(_marked(tmp_path)) < 5:  # sh, sleep &, the subshell, its sleep, cat
        assert time.monotonic() < deadline, "the stage's processes are not all visible"
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = _finish(proc)
    assert proc.returncode == 130, stderr.decode()
    document = orjson.loads(stdout)
    assert document["status"] == "cancelled"
    run = RunFiles(tmp_path, "0101", run_dir.name)
    hold, later = run.manifest()["commands"]
    assert (hold["status"], later["status"]) == ("failed", "pending")
    assert hold["worker"].startswith("tcp://")
    assert run.error("01-hold")["reason"] == "cancelled"
    assert process_ended(child)
    assert not _marked(tmp_path), "processes left on workers"


def test_a_worker_killed_mid_stage_fails_the_stage_and_resume_reruns_it(
    tmp_path: Path, cluster: Any, client: Any
) -> None:
    """SIGKILL to the worker running a stage: reason worker-lost; resume runs it again."""
    script = (
        "if [ -e second-time ]; then echo recovered; "
        "else touch second-time; echo ready; sleep 300; fi"
    )
    write_config(tmp_path, pipeline("fragile", command("victim", script)))
    proc = _popen_start(tmp_path, cluster)
    run_dir = _run_dir(tmp_path, proc)
    _wait_for_line(run_dir, "ready", proc)
    pids = client.run(os.getpid)
    stage_procs = _marked(tmp_path)
    assert stage_procs
    stage_pids = {p.pid for p in stage_procs}
    running_on = [
        address
        for address, pid in pids.items()
        if stage_pids & {c.pid for c in psutil.Process(pid).children(recursive=True)}
    ]
    assert len(running_on) == 1
    os.kill(pids[running_on[0]], signal.SIGKILL)
    stdout, stderr = _finish(proc)
    assert proc.returncode == 1, stderr.decode()
    document = orjson.loads(stdout)
    assert document["status"] == "failed"
    run = RunFiles(tmp_path, "0101", run_dir.name)
    (record,) = run.manifest()["commands"]
    assert record["status"] == "failed"
    assert record["worker"] == running_on[0]
    assert record["summary"] == (
        f"Worker lost: {running_on[0]} left the cluster before the stage ended"
    )
    assert run.error("01-victim")["reason"] == "worker-lost"
    deadline = time.monotonic() + PATIENCE_SECONDS
    while _marked(tmp_path):
        assert time.monotonic() < deadline, "the lost stage's processes outlived it"
        time.sleep(0.1)
    client.wait_for_workers(2, timeout=PATIENCE_SECONDS)
    resumed = run_cli_subprocess(
        tmp_path,
        "resume",
        "--run",
        run_dir.name,
        "--executor",
        "dask",
        "--scheduler",
        cluster.scheduler_address,
        "--format",
        "json",
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json_document(resumed)["status"] == "succeeded"
    manifest = run.manifest()
    (record,) = manifest["commands"]
    assert record["status"] == "succeeded"
    assert record["summary"] == "recovered"
    # It ran again on the cluster (the restarted worker or the other one), not locally.
    assert record["worker"] in client.scheduler_info()["workers"]
    assert manifest["resume_events"][-1]["outcome"] == "accepted"


def test_resources_choose_workers_and_unmet_ones_fail_at_once(tmp_path: Path, cluster: Any) -> None:
    """Stage ``resources`` go to Dask; a need no worker can meet fails the stage plainly."""
    write_config(
        tmp_path,
        pipeline(
            "res",
            command("fits", "echo fits", resources={"cpu": 2}),
            command("huge", "echo never", resources={"cpu": 64}),
        ),
    )
    result, _, run = _start(tmp_path, cluster)
    assert result.returncode == 1, result.stderr
    fits, huge = run.manifest()["commands"]
    assert fits["status"] == "succeeded"
    assert huge["status"] == "failed"
    assert huge["summary"] == "Could not start: no dask worker offers the resources cpu=64"
    assert run.error("02-huge")["reason"] == "spawn-error"


def test_an_unreachable_scheduler_is_a_usage_error_before_anything_runs(tmp_path: Path) -> None:
    """Exit 2, one line naming the address; no run directory is created."""
    write_config(tmp_path, pipeline("p", command("x", "true")))
    with socket_port() as port:
        result = run_cli_subprocess(
            tmp_path, "start", "--scheduler", f"tcp://127.0.0.1:{port}", "--format", "json"
        )
    assert result.returncode == 2, result.stderr
    assert one_error_line(result).startswith(
        f"cannot reach the dask scheduler at tcp://127.0.0.1:{port}"
    )
    assert not (tmp_path / ".runs").exists()


def test_without_a_scheduler_a_local_cluster_runs_the_stages(tmp_path: Path) -> None:
    """``--executor dask`` alone: a local cluster is started for the run, then shut down,
    leaving nothing in the temp dir (Dask's default scratch space is shared by all)."""
    write_config(
        tmp_path, pipeline("solo", command("hi", "echo hello from $CODEX_ORCHESTRATOR_STAGE_ID"))
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    result, document, run = start_json(tmp_path, "--executor", "dask", env={"TMPDIR": str(temp)})
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
    (record,) = run.manifest()["commands"]
    assert record["worker"].startswith("tcp://127.0.0.1:")
    assert output_bytes(run.command_events("01-hi"), "stdout") == b"hello from hi\n"
    # Shut down with the run: nothing listens at its worker's address any more.
    host, port = record["worker"].removeprefix("tcp://").rsplit(":", 1)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((host, int(port)))
    assert sorted(os.listdir(temp)) == []


@contextlib.contextmanager
def socket_port() -> Iterator[int]:
    """A local TCP port nothing listens on (bound, not listening, while in use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _private_mounts_work() -> bool:
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_a_worker_that_cannot_see_the_run_directory_fails_the_run(tmp_path: Path) -> None:
    """A worker with its own filesystem (the project hidden under a tmpfs): exit 2, one line."""
    if not _private_mounts_work():
        pytest.skip("needs unshare --mount (root) to give a worker a filesystem of its own")
    write_config(tmp_path, pipeline("p", command("x", "echo never")))
    hide = 'mount -t tmpfs none "$1" && shift && exec "$@"'
    with (
        dask.config.set({"temporary-directory": str(tmp_path / "scratch")}),
        distributed.LocalCluster(
            n_workers=0,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=40,
            local_directory=str(tmp_path / "scratch"),
        ) as lonely,
    ):
        worker = subprocess.Popen(
            [
                *("unshare", "--mount", "--propagation", "private", "sh", "-c", hide, "sh"),
                str(tmp_path),
                *(sys.executable, "-m", "distributed.cli.dask_worker", lonely.scheduler_address),
                *("--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with distributed.Client(lonely, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=PATIENCE_SECONDS)
                (address,) = client.scheduler_info()["workers"]
            result = run_cli_subprocess(
                tmp_path, "start", "--scheduler", lonely.scheduler_address, "--format", "json"
            )
        finally:
            worker.terminate()
            worker.wait(timeout=PATIENCE_SECONDS)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    run = only_run(tmp_path)
    # The run had started (its first progress line), then failed with one error line.
    last = result.stderr.splitlines()[-1]
    message = last.removeprefix("codex-orchestrator: error: ")
    assert message != last
    assert message.startswith(
        f"dask worker {address} cannot see the run directory .runs/0101/cli/{run.run_id} "
    )
    assert "filesystem shared with the workers" in message
    manifest = run.manifest()
    assert manifest["status"] == "failed"
    assert manifest["commands"][0]["status"] == "pending"
    assert not (run.run_dir / ".executor-probe").exists()
