"""Running one process and measuring it: wall time, runner RSS, and wait4's ru_maxrss.

"Runner RSS" is the summed RSS of the tool's own processes, sampled every 20 ms with
psutil: the started process plus any descendants it spawned for itself (the TypeScript
tool's launcher re-spawns node for the real work), but not the stage commands it runs
(a process whose command line holds a stage command, and everything under it).
``ru_maxrss`` from ``os.wait4`` is the peak of the started process and of every
descendant it reaped, commands included; it is reported beside it because it is free.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

POLL_SECONDS = 0.02
RESCAN_EVERY_TICKS = 5
READ_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """What one timed process did and cost."""

    wall_s: float
    exit_code: int
    runner_rss_bytes: int
    tree_maxrss_bytes: int
    stdout: str
    stderr: str


def _is_stage_command(cmdline: Sequence[str], stage_commands: frozenset[str]) -> bool:
    return bool(cmdline) and (cmdline[-1] in stage_commands or " ".join(cmdline) in stage_commands)


class RunnerRssSampler:
    """Samples the summed RSS of a tool's own process tree on a background thread."""

    def __init__(self, pid: int, stage_commands: frozenset[str]) -> None:
        self._root = psutil.Process(pid)
        self._stage_commands = stage_commands
        self._tool: dict[int, psutil.Process] = {pid: self._root}
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        """Begin sampling."""
        self._thread.start()

    def stop(self) -> int:
        """Stop sampling and return the peak summed RSS in bytes."""
        self._stop.set()
        self._thread.join()
        return self._peak

    def _loop(self) -> None:
        tick = 0
        while True:
            if tick % RESCAN_EVERY_TICKS == 0:
                self._rescan()
            self._sample()
            tick += 1
            if self._stop.wait(POLL_SECONDS):
                return

    def _rescan(self) -> None:
        try:
            children = self._root.children(recursive=True)
        except psutil.Error:
            return
        tool: dict[int, psutil.Process] = {self._root.pid: self._root}
        # psutil lists a parent before its children, so one pass sees every parent first.
        for child in children:
            try:
                parent_pid = child.ppid()
                cmdline = child.cmdline()
            except psutil.Error:
                continue
            parent = tool.get(parent_pid)
            if parent is None or _is_stage_command(cmdline, self._stage_commands):
                continue
            if self._looks_unexeced(parent, cmdline):
                continue
            tool[child.pid] = self._tool.get(child.pid, child)
        self._tool = tool

    @staticmethod
    def _looks_unexeced(parent: psutil.Process, cmdline: list[str]) -> bool:
        # Between fork and exec a child shares its parent's pages and command line;
        # counting it would add the parent's RSS twice.
        try:
            return cmdline == parent.cmdline()
        except psutil.Error:
            return True

    def _sample(self) -> None:
        total = 0
        for process in list(self._tool.values()):
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        self._peak = max(self._peak, total)


def _read_all(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", errors="replace")


def measure(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stage_commands: frozenset[str],
) -> Measurement:
    """Run ``argv`` in ``cwd`` to completion and measure it (output goes to temp files)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        sampler = RunnerRssSampler(proc.pid, stage_commands)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        # Tell Popen the pid is reaped, so it never waits on a possibly reused pid.
        proc.returncode = os.waitstatus_to_exitcode(status)
        runner_rss = sampler.stop()
        return Measurement(
            wall_s=wall,
            exit_code=proc.returncode,
            runner_rss_bytes=runner_rss,
            tree_maxrss_bytes=usage.ru_maxrss * 1024,
            stdout=_read_all(out),
            stderr=_read_all(err),
        )


def bare_shell_loop(count: int) -> float:
    """Seconds per iteration of running ``sh -c true`` ``count`` times via subprocess."""
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(["sh", "-c", "true"], check=True)
    return (time.perf_counter() - started) / count


def bare_stage_files(count: int, directory: Path) -> float:
    """Seconds per iteration of creating what the layout asks of one stage: an event
    file, an instance directory with ``workspace/``, ``output.log`` and ``metadata.json``
    (the part of a stage's cost that is the filesystem's, not the runner's)."""
    commands = directory / "commands"
    instances = directory / "instances"
    commands.mkdir(parents=True)
    instances.mkdir()
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    started = time.perf_counter()
    for index in range(count):
        os.close(os.open(commands / f"{index:04d}.ndjson", flags, 0o644))
        instance = instances / f"{index:04d}"
        os.mkdir(instance)
        os.mkdir(instance / "workspace", 0o700)
        os.close(os.open(instance / "output.log", flags, 0o644))
        os.close(os.open(instance / "metadata.json", flags, 0o644))
    return (time.perf_counter() - started) / count


def bare_line_reader(command: str) -> tuple[float, int]:
    """Run ``command`` under ``sh -c``, drain its stdout; return (wall seconds, lines)."""
    started = time.perf_counter()
    lines = 0
    with subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE) as proc:
        if proc.stdout is None:
            raise RuntimeError("stdout pipe missing")
        while chunk := os.read(proc.stdout.fileno(), READ_CHUNK):
            lines += chunk.count(b"\n")
    return time.perf_counter() - started, lines
