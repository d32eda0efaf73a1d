"""Starting one command, streaming its output, ending its whole process tree.

The only module that starts processes. A command runs in its own session (so a
terminal's Ctrl-C reaches the runner, which then ends the command's tree in order),
its pipes are drained with ``selectors`` in large chunks, and it is reaped with
``wait4`` so CPU time and peak memory cover every descendant it waited for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable

import psutil

from codex_orchestrator.engine import watchdog
from codex_orchestrator.engine.executor import (
    KILL_GRACE_SECONDS,
    STDERR,
    STDOUT,
    CancelSignal,
    CommandOutcome,
    CommandRequest,
    OutputSink,
)
from codex_orchestrator.engine.leftovers import (
    StageSession,
    end_orphans,
    end_session,
    process_create_time,
)
from codex_orchestrator.engine.procfs import read_small
from codex_orchestrator.engine.reaper import become_subreaper, tree_rss
from codex_orchestrator.model import Resources

_STREAMS = (STDOUT, STDERR)
READ_CHUNK = 256 * 1024
TICK_SECONDS = 0.5
# After the command itself exits, leftovers (background jobs) may hold its pipes
# open; read what they print for this long, then stop listening.
LINGER_SECONDS = 2.0
# psutil samples of the live tree: soon after start, then less often (1 s at most).
FIRST_SAMPLE_SECONDS = 0.05
SAMPLE_EVERY_SECONDS = 1.0


class LocalExecutor:
    """The default executor: each command is a child process of this runner."""

    def run(
        self, request: CommandRequest, sink: OutputSink, cancel: CancelSignal
    ) -> CommandOutcome:
        """Run ``request`` here; see engine/executor.py for the contract."""
        return run_process(request, sink, cancel)


def run_process(request: CommandRequest, sink: OutputSink, cancel: CancelSignal) -> CommandOutcome:
    """Run ``request`` to completion, streaming output into ``sink``.

    The command's process group is handed to this runner's watchdog while it runs (it
    dies with the runner, however the runner dies), its session is reported to the
    sink's optional ``on_spawn`` at once, and whatever of that session is still
    running when the command ends is ended and listed in ``ended_processes``.
    """
    started = time.monotonic()
    become_subreaper()
    # Our own pipes, read with os.read: Popen's PIPE wraps each in a file object
    # the runner never uses (and that costs system calls at every stage).
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        proc = subprocess.Popen(
            request.argv,
            cwd=request.cwd,
            env=request.env,
            stdin=_devnull(),
            stdout=out_write,
            stderr=err_write,
            start_new_session=True,
            close_fds=True,
        )
    except BaseException as exc:
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        if not isinstance(exc, OSError):
            raise
        return CommandOutcome(
            exit_code=None,
            signal=None,
            duration_ms=int((time.monotonic() - started) * 1000),
            resources=Resources(),
            spawn_error=f"{exc.strerror or exc}: {exc.filename or request.argv[0]}",
        )
    os.close(out_write)
    os.close(err_write)
    watchdog.watch(proc.pid)
    try:
        try:
            session = _session_of(proc.pid)
            on_spawn = getattr(sink, "on_spawn", None)
            if session is not None and on_spawn is not None:
                on_spawn(session)
            supervisor = _Supervisor(proc, (out_read, err_read), request, sink, cancel, started)
        except BaseException:
            os.close(out_read)
            os.close(err_read)
            raise
        outcome = supervisor.run()
        if session is None:
            return outcome
        # As GitHub Actions ends a job's orphans: whatever the stage left running goes.
        ended = end_orphans(session)
        if ended is None:
            ended = end_session(session)
    finally:
        watchdog.release(proc.pid)
    return dataclasses.replace(outcome, ended_processes=tuple(ended)) if ended else outcome


@functools.cache
def _devnull() -> int:
    """/dev/null for the commands' stdin, opened once (Popen's DEVNULL opens it per
    command)."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


def _session_of(pid: int) -> StageSession | None:
    """The session a leader started with ``start_new_session`` heads: its own pid."""
    created = process_create_time(pid)
    if created is None:
        return None
    return StageSession(sid=pid, pgid=pid, leader_pid=pid, leader_create_time=created)


class _Supervisor:
    """Drives one started process: read, tick, enforce deadline and cancel, reap."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        pipes: tuple[int, int],
        request: CommandRequest,
        sink: OutputSink,
        cancel: CancelSignal,
        started: float,
    ) -> None:
        self.proc = proc
        self.pipes = pipes  # (stdout, stderr) read ends; closed when run() ends
        self.sink = sink
        self.cancel = cancel
        self.started = started
        self.deadline = started + request.timeout_seconds if request.timeout_seconds else None
        self.selector = selectors.DefaultSelector()
        self.wakeup_fd = cancel.fileno()
        self.pidfd: int | None = None
        self.exit_status: int | None = None
        self.rusage_cpu = 0.0
        self.rusage_rss = 0
        self.peak_tree_rss = 0
        self.next_sample = started + FIRST_SAMPLE_SECONDS
        self.sample_gap = FIRST_SAMPLE_SECONDS
        # wait4's ru_maxrss of a child we spawned includes our own memory at the moment
        # of spawning (the kernel records the parent's high-water mark at exec); only a
        # figure above that is the command's own.
        self.own_rss_at_spawn = _own_peak_rss()
        self.timed_out = False
        self.cancelled = False
        self.kill_at: float | None = None
        self.tree: list[psutil.Process] = []
        # Run on the driver thread, the command keeps the run's heartbeat going.
        self.tick: Callable[[], None] | None = getattr(sink, "on_tick", None)

    def run(self) -> CommandOutcome:
        proc = self.proc
        out_fd, err_fd = self.pipes
        self.selector.register(out_fd, selectors.EVENT_READ, STDOUT)
        self.selector.register(err_fd, selectors.EVENT_READ, STDERR)
        if self.wakeup_fd is not None:
            self.selector.register(self.wakeup_fd, selectors.EVENT_READ, "wakeup")
        with contextlib.suppress(OSError, AttributeError):
            self.pidfd = os.pidfd_open(proc.pid)
            self.selector.register(self.pidfd, selectors.EVENT_READ, "exit")
        # Told now, just before this thread first waits: whatever the sink starts then
        # (making the next stages' files) does not compete with the spawn for the GIL.
        started = getattr(self.sink, "on_started", None)
        if started is not None:
            started()
        try:
            self._loop()
        except BaseException:
            # The runner cannot go on (disk full, internal error): end the command's
            # tree rather than orphan it, then let the error reach the driver.
            self._emergency_stop()
            raise
        finally:
            self.selector.close()
            if self.pidfd is not None:
                os.close(self.pidfd)
            os.close(out_fd)
            os.close(err_fd)
        return self._outcome()

    def _open_streams(self) -> int:
        return sum(1 for key in self.selector.get_map().values() if key.data in _STREAMS)

    def _loop(self) -> None:
        linger_until: float | None = None
        while True:
            now = time.monotonic()
            streams_open = self._open_streams()
            if self.exit_status is None and self.pidfd is None:
                self._try_reap()
            if self.exit_status is not None:
                if not streams_open:
                    return
                if linger_until is None:
                    linger_until = now + LINGER_SECONDS
                elif now >= linger_until:
                    self._close_streams()
                    return
            timeout = self._timeout(now, linger_until)
            for key, _ in self.selector.select(timeout):
                if key.data == "exit":
                    self._try_reap()
                elif key.data == "wakeup":
                    # Readable once cancel is set, and for good: stop watching it.
                    self.selector.unregister(key.fd)
                else:
                    self._read(key.fd, str(key.data))
            self._enforce(time.monotonic())
            if self.tick is not None:
                self.tick()

    def _timeout(self, now: float, linger_until: float | None) -> float:
        timeout = TICK_SECONDS if self.pidfd is not None else 0.05
        # Wake for the next memory sample too: a quiet command is sampled on time.
        sample_at = self.next_sample if self.exit_status is None else None
        for moment in (self.deadline, self.kill_at, linger_until, sample_at):
            if moment is not None:
                timeout = min(timeout, max(0.0, moment - now))
        return timeout

    def _read(self, fd: int, stream: str) -> None:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        if not data:
            self.selector.unregister(fd)
            return
        self.sink.write(stream, data)

    def _close_streams(self) -> None:
        for key in list(self.selector.get_map().values()):
            if key.data in _STREAMS:
                self.selector.unregister(key.fd)

    def _try_reap(self) -> None:
        if self.exit_status is not None:
            return
        pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return
        self.exit_status = status
        self.rusage_cpu = rusage.ru_utime + rusage.ru_stime
        self.rusage_rss = rusage.ru_maxrss * 1024  # Linux reports KiB
        # Popen must not try to reap the pid again (it may be reused).
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.pidfd is not None:
            self.selector.unregister(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None

    def _enforce(self, now: float) -> None:
        if now >= self.next_sample and self.exit_status is None:
            self._sample_tree()
            self.sample_gap = min(self.sample_gap * 2, SAMPLE_EVERY_SECONDS)
            self.next_sample = now + self.sample_gap
        if self.kill_at is None:
            if self.exit_status is None and self.cancel.is_set():
                self.cancelled = True
                self._terminate()
            elif self.deadline is not None and now >= self.deadline and self.exit_status is None:
                self.timed_out = True
                self._terminate()
        elif now >= self.kill_at:
            self._kill()
            self.kill_at = float("inf")

    def _sample_tree(self) -> None:
        """Add up the RSS of the command's live process tree (/proc, else psutil)."""
        fast = tree_rss(self.proc.pid)
        if fast is not None:
            self.peak_tree_rss = max(self.peak_tree_rss, fast)
            return
        try:
            root = psutil.Process(self.proc.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for member in members:
            with contextlib.suppress(psutil.Error):
                total += member.memory_info().rss
        self.peak_tree_rss = max(self.peak_tree_rss, total)

    def _terminate(self) -> None:
        """SIGTERM to the command's group and every descendant; SIGKILL after a grace."""
        with contextlib.suppress(psutil.Error):
            self.tree = psutil.Process(self.proc.pid).children(recursive=True)
        _signal_group(self.proc.pid, signal.SIGTERM)
        for member in self.tree:
            with contextlib.suppress(psutil.Error):
                member.send_signal(signal.SIGTERM)
        self.kill_at = time.monotonic() + KILL_GRACE_SECONDS

    def _kill(self) -> None:
        _signal_group(self.proc.pid, signal.SIGKILL)
        for member in self.tree:
            with contextlib.suppress(psutil.Error):
                member.kill()

    def _emergency_stop(self) -> None:
        if self.exit_status is not None:
            return
        self._terminate()
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while time.monotonic() < deadline:
            pid, status, _ = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.02)
        else:
            self._kill()
            _, status, _ = os.wait4(self.proc.pid, 0)
            self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._kill()

    def _outcome(self) -> CommandOutcome:
        if self.exit_status is None:
            # Streams closed long ago but the process lives on: wait for it.
            _, status, rusage = os.wait4(self.proc.pid, 0)
            self.exit_status = status
            self.rusage_cpu = rusage.ru_utime + rusage.ru_stime
            self.rusage_rss = rusage.ru_maxrss * 1024
            self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.kill_at is not None:
            # Whatever the grace left alive of the tree goes now.
            self._kill()
        code = os.waitstatus_to_exitcode(self.exit_status)
        exit_code, sig = (code, None) if code >= 0 else (None, signal.Signals(-code).name)
        return CommandOutcome(
            exit_code=exit_code,
            signal=sig,
            duration_ms=int((time.monotonic() - self.started) * 1000),
            resources=Resources(
                cpu_seconds=self.rusage_cpu,
                # 0 means nothing was measured (the command ended before a sample).
                peak_rss_bytes=max(self._own_rusage_rss(), self.peak_tree_rss) or None,
            ),
            timed_out=self.timed_out,
            cancelled=self.cancelled,
        )

    def _own_rusage_rss(self) -> int:
        return self.rusage_rss if self.rusage_rss > self.own_rss_at_spawn else 0


def _own_peak_rss() -> int:
    """This process's peak RSS in its current address space (VmHWM), what a child inherits.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: that also holds whatever the process that
    started us had when it exec-ed us (a CI agent, an IDE, pytest), and a command using
    less than that would be reported as using nothing.
    """
    try:
        status = read_small("/proc/self/status")
        start = status.find(b"\nVmHWM:")
        if start >= 0:
            return int(status[start + 7 : status.index(b"\n", start + 1)].split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
