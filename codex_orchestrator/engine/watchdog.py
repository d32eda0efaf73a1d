"""Stages die with their runner: one small watchdog process per runner.

A runner killed with SIGKILL (the OOM killer, a CI timeout) cannot end its stages.
Its watchdog can: a ``/bin/sh`` loop started once, in a session of its own, that reads
``+ PGID`` when a stage starts and ``- PGID`` when it ends on a pipe from the runner.
When the runner dies, however it dies, the kernel closes the pipe; the watchdog reads
end-of-file and sends SIGKILL to the process group of every stage still running, then
exits. A group is sent nothing once its stage ended, so a reused pid is never touched
(a process group id cannot be reused while any member of the group lives).

Why not ``PR_SET_PDEATHSIG`` in each stage's leader: setting it needs code in the
child between fork and exec (``preexec_fn``), which makes Python fork instead of
vfork and costs about 1.1 ms per stage on a 2-core VM; it also reaches only the
leader, not the background jobs of its group. Two ``write(2)`` calls per stage here
cost microseconds, and the whole group goes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading

SCRIPT = r"""
trap '' INT TERM HUP
live=""
while read -r op pg; do
  case "$op" in
    +) live="$live $pg" ;;
    -) rest=""; for p in $live; do [ "$p" = "$pg" ] || rest="$rest $p"; done; live=$rest ;;
  esac
done
for p in $live; do kill -9 "-$p" 2>/dev/null; done
"""

_lock = threading.Lock()
_pipe: int | None = None
_owner: int | None = None


def _writer() -> int | None:
    """The pipe to this process's watchdog, started on first use (None if it cannot)."""
    global _pipe, _owner
    with _lock:
        if _pipe is not None and _owner == os.getpid():
            return _pipe
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            return None
        assert proc.stdin is not None  # noqa: S101 - stdin=PIPE
        _pipe, _owner = os.dup(proc.stdin.fileno()), os.getpid()
        os.set_inheritable(_pipe, False)
        proc.stdin.close()
        # Popen would reap it at interpreter exit; it must outlive us instead.
        proc.returncode = 0
        return _pipe


def watch(pgid: int) -> None:
    """A stage started: its group is killed if the runner dies before ``release``."""
    _send(f"+ {pgid}\n".encode())


def release(pgid: int) -> None:
    """The stage ended: its group is the watchdog's no more."""
    _send(f"- {pgid}\n".encode())


def _send(line: bytes) -> None:
    fd = _writer()
    if fd is None:
        return
    with contextlib.suppress(OSError):  # a dead watchdog must not stop the run
        os.write(fd, line)
