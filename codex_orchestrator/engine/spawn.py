"""Running a short helper program (git) to completion, its whole group ended at a time limit.

Beside ``engine/process.py`` (which streams stage output), this is the one other place
that starts processes: helpers whose output we read whole, such as git plumbing. Each
runs in its own session, so a limit ends everything it started (an ``ssh`` under
``git push``, say), not only the first process. ``spawn_detached`` hands a file to an
editor or opener and does not wait: that program gets its own session and ``/dev/null``
for its streams, so it outlives the command that started it and never touches its
terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from codex_orchestrator.errors import InvalidInput

KILL_GRACE_SECONDS = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """What a helper program did: its exit code (None when ended at the limit) and output."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Exited with status 0."""
        return self.returncode == 0

    def error_text(self) -> str:
        """The last non-empty line of stderr (or stdout), for a one-line message."""
        for stream in (self.stderr, self.stdout):
            lines = [line.strip() for line in stream.decode("utf-8", "replace").splitlines()]
            lines = [line for line in lines if line]
            if lines:
                return lines[-1]
        return f"exit status {self.returncode}"


def spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run ``argv`` in its own session; at ``timeout`` seconds end its whole group."""
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        message = f"{exc.strerror or exc}: {argv[0]}".encode()
        return Completed(argv=tuple(argv), returncode=127, stdout=b"", stderr=message)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(proc)
        out, err = proc.communicate()
        return Completed(argv=tuple(argv), returncode=None, stdout=out, stderr=err, timed_out=True)
    except BaseException:
        _end_group(proc)
        proc.communicate()
        raise
    return Completed(argv=tuple(argv), returncode=proc.returncode, stdout=out, stderr=err)


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group and every descendant, SIGKILL after a grace, then reap.

    The leader is not reaped before the last SIGKILL: while it is a zombie its group id
    cannot be taken by an unrelated process.
    """
    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    _signal_group(proc.pid, signal.SIGTERM)
    for member in tree:
        with contextlib.suppress(psutil.Error):
            member.terminate()
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline and not _all_ended(proc.pid, tree):
        time.sleep(0.05)
    _signal_group(proc.pid, signal.SIGKILL)
    for member in tree:
        with contextlib.suppress(psutil.Error):
            member.kill()
    proc.wait()


def _all_ended(pid: int, tree: list[psutil.Process]) -> bool:
    if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        return False
    for member in tree:
        with contextlib.suppress(psutil.Error):
            if member.status() != psutil.STATUS_ZOMBIE:
                return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def spawn_detached(argv: Sequence[str]) -> int:
    """Start ``argv`` (looked up on PATH) in a new session and return its pid at once."""
    if not argv:
        raise InvalidInput("no program to start")
    program = shutil.which(argv[0])
    if program is None:
        raise InvalidInput(f"cannot start {argv[0]!r}: not found on PATH")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    try:
        return os.posix_spawn(program, list(argv), os.environ, file_actions=actions, setsid=True)
    except OSError as exc:
        raise InvalidInput(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from exc
