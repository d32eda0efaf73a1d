"""Helpers for resilience tests: a project dir, the real CLI as a subprocess, run files.

Every test here runs ``python -m codex_orchestrator`` in a project directory under
``tmp_path`` and judges what a user would see: exit codes, stdout/stderr, and the
files under ``.runs``. Processes a test starts (runners, and stage processes that
write their pids to a file) are ended at teardown, by pid, if they are still alive.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest

TASK = "0101"
WAIT_SECONDS = 60.0
# Processes get SIGKILL before the runner exits; this bounds how long they take to go.
GONE_SECONDS = 15.0
POLL_SECONDS = 0.02

# Runs the CLI in this process after lowering RLIMIT_FSIZE: a file write past the limit
# fails with EFBIG (SIGXFSZ ignored), as writes fail on a full disk.
FSIZE_WRAPPER = """
import os, resource, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
os.execv(sys.executable, [sys.executable, "-m", "codex_orchestrator", *sys.argv[2:]])
"""

# Runs the CLI as a child and prints its exit code and the peak RSS (bytes) the kernel
# recorded over it and the processes it waited for. The stage's own processes are
# small (sh, seq, head), so the peak is the runner's.
PEAK_RSS_WRAPPER = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "codex_orchestrator", *sys.argv[1:]],
                      stdout=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(proc.returncode, peak)
"""


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    """Every line of an NDJSON file as an object; a line that is not JSON fails the test."""
    events = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                pytest.fail(f"{path.name} line {number} is not JSON: {line[:120]!r}")
    return events


def output_bytes(events: Sequence[dict[str, Any]], stream: str = "stdout") -> bytes:
    """The exact bytes a command wrote to ``stream``, rebuilt from its output events."""
    chunks = []
    for event in events:
        if event["type"] != f"command:{stream}":
            continue
        b64 = event.get("data_b64")
        raw = base64.b64decode(b64) if b64 is not None else event["data"].encode("utf-8")
        chunks.append(raw if event.get("partial") else raw + b"\n")
    return b"".join(chunks)


def is_gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: Sequence[int], what: str) -> None:
    """Wait (boundedly) until every pid is gone; fail naming the survivors."""
    deadline = time.monotonic() + GONE_SECONDS
    while True:
        alive = [pid for pid in pids if not is_gone(pid)]
        if not alive:
            return
        if time.monotonic() > deadline:
            described = []
            for pid in alive:
                try:
                    described.append(f"{pid} {' '.join(psutil.Process(pid).cmdline())}")
                except psutil.Error:
                    described.append(str(pid))
            pytest.fail(f"{what}: still running after {GONE_SECONDS:.0f}s: {described}")
        time.sleep(POLL_SECONDS)


def read_pids(path: Path) -> list[int]:
    """The pids a stage wrote to ``path``, one a line."""
    if not path.exists():
        return []
    return [int(word) for word in path.read_text().split()]


def command_stage(stage_id: str, command: str, **extra: Any) -> dict[str, Any]:
    """A ``kind: command`` stage of codex.orchestrator.json."""
    return {
        "kind": "command",
        "id": stage_id,
        "title": stage_id.title(),
        "command": command,
        **extra,
    }


@dataclass
class Project:
    """A project directory with its own codex.orchestrator.json, and the CLI run in it."""

    root: Path
    started_at: float = field(default_factory=time.time)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _pid_files: list[Path] = field(default_factory=list)

    # -- configuration -----------------------------------------------------------------

    def configure(self, *pipelines: dict[str, Any]) -> None:
        """Write the config; the first pipeline is the default."""
        config = {"defaultPipeline": pipelines[0]["id"], "pipelines": list(pipelines)}
        (self.root / "codex.orchestrator.json").write_bytes(
            orjson.dumps(config, option=orjson.OPT_INDENT_2)
        )

    def pipeline(self, *stages: dict[str, Any], pipeline_id: str = "main") -> None:
        """Write a config with one pipeline of ``stages``."""
        self.configure({"id": pipeline_id, "title": pipeline_id.title(), "stages": list(stages)})

    # -- running the CLI ---------------------------------------------------------------

    def argv(self, *args: str) -> list[str]:
        """The command line of the real CLI."""
        return [sys.executable, "-m", "codex_orchestrator", *args]

    def cli(self, *args: str, timeout: float = 100.0) -> subprocess.CompletedProcess[bytes]:
        """Run the CLI to completion; stdout and stderr captured."""
        return subprocess.run(
            self.argv(*args), cwd=self.root, capture_output=True, timeout=timeout, check=False
        )

    def spawn(self, *args: str, argv: Sequence[str] | None = None) -> Runner:
        """Start the CLI in the background; stdout/stderr go to files (no pipe to fill)."""
        name = f"proc-{len(self._processes)}"
        stdout = self.root / f".{name}.stdout"
        stderr = self.root / f".{name}.stderr"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen(
                list(argv) if argv is not None else self.argv(*args),
                cwd=self.root,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        self._processes.append(proc)
        return Runner(proc=proc, stdout_path=stdout, stderr_path=stderr)

    def track_pids(self, path: Path) -> Path:
        """End, at teardown, the processes a stage lists in ``path`` (and their groups)."""
        self._pid_files.append(path)
        return path

    def cleanup(self) -> None:
        """End what this test started and left running: by pid, never by name."""
        for proc in self._processes:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        for path in self._pid_files:
            with contextlib.suppress(OSError):
                listed_at = path.stat().st_mtime
                for pid in read_pids(path):
                    self._kill_if_ours(pid, listed_at)

    def _kill_if_ours(self, pid: int, listed_at: float) -> None:
        # A listed process started before its pid was written; one started before this
        # test or after the list was last written has reused the pid (another test's
        # runner, or a watchdog that must be left to clean up). create_time is only
        # accurate to about a second (the boot time is in whole seconds).
        try:
            process = psutil.Process(pid)
            created = process.create_time()
            if created < self.started_at - 1 or created > listed_at + 1:
                return
            members = [process, *process.children(recursive=True)]
        except psutil.Error:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
        for member in members:
            with contextlib.suppress(psutil.Error):
                member.kill()

    # -- the .runs tree ----------------------------------------------------------------

    @property
    def cli_dir(self) -> Path:
        """``.runs/<task>/cli``."""
        return self.root / ".runs" / TASK / "cli"

    @property
    def metrics_file(self) -> Path:
        """``.runs/<task>/metrics.json``."""
        return self.root / ".runs" / TASK / "metrics.json"

    def run_dirs(self) -> list[Path]:
        """Every canonical run directory of the task, oldest first."""
        if not self.cli_dir.is_dir():
            return []
        return sorted(p for p in self.cli_dir.iterdir() if p.is_dir())

    def only_run(self) -> Path:
        """The one run directory of the task (fails when there are others)."""
        dirs = self.run_dirs()
        assert len(dirs) == 1, f"expected one run directory, found {[d.name for d in dirs]}"
        return dirs[0]

    def metrics(self) -> list[dict[str, Any]]:
        """Every metrics line (each must be a whole JSON object)."""
        if not self.metrics_file.exists():
            return []
        return read_ndjson(self.metrics_file)


def manifest_of(run_dir: Path) -> dict[str, Any]:
    """The run's manifest.json as written."""
    data: dict[str, Any] = orjson.loads((run_dir / "manifest.json").read_bytes())
    return data


def try_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None while it does not exist yet."""
    try:
        return manifest_of(run_dir)
    except FileNotFoundError:
        return None


def run_events(run_dir: Path) -> list[dict[str, Any]]:
    """Every event of ``runner.ndjson``."""
    return read_ndjson(run_dir / "runner.ndjson")


def command_events(run_dir: Path, name: str) -> list[dict[str, Any]]:
    """Every event of ``commands/<name>.ndjson`` (``name`` like ``01-build``)."""
    return read_ndjson(run_dir / "commands" / f"{name}.ndjson")


def error_file(run_dir: Path, name: str) -> dict[str, Any]:
    """``errors/<name>.json``."""
    data: dict[str, Any] = orjson.loads((run_dir / "errors" / f"{name}.json").read_bytes())
    return data


def stage_status(manifest: dict[str, Any], stage_id: str) -> str:
    """The status the manifest records for a stage."""
    for record in manifest["commands"]:
        if record["id"] == stage_id:
            return str(record["status"])
    raise KeyError(stage_id)


def stage_record(manifest: dict[str, Any], stage_id: str) -> dict[str, Any]:
    """The manifest's record of a stage."""
    for record in manifest["commands"]:
        if record["id"] == stage_id:
            return dict(record)
    raise KeyError(stage_id)


def one_line_error(stderr: bytes) -> str:
    """The error line of a refused command; fails on tracebacks and multi-line noise."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("codex-orchestrator: error:")]
    assert len(errors) == 1, text
    return errors[0]


@dataclass
class Runner:
    """A CLI process started in the background."""

    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        """The runner's pid (the CLI runs directly, not under a shell)."""
        return self.proc.pid

    def wait(self, timeout: float = 100.0) -> int:
        """Wait for the exit code."""
        return self.proc.wait(timeout=timeout)

    @property
    def stdout(self) -> bytes:
        """What it printed on stdout so far."""
        return self.stdout_path.read_bytes()

    @property
    def stderr(self) -> bytes:
        """What it printed on stderr so far."""
        return self.stderr_path.read_bytes()

    def run_dir(self, project: Project) -> Path:
        """The run directory this runner created (waits for it)."""
        found: Path = wait_until(
            lambda: next(iter(project.run_dirs()), None), "the run directory to appear"
        )
        return found

    def wait_for_stage(self, run_dir: Path, stage_id: str, status: str = "running") -> None:
        """Wait until the manifest shows ``stage_id`` in ``status`` (the runner must live)."""

        def reached() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"runner exited ({self.proc.returncode}): {self.stderr.decode()}")
            manifest = try_manifest(run_dir)
            return manifest is not None and stage_status(manifest, stage_id) == status

        wait_until(reached, f"stage {stage_id} to be {status}")
