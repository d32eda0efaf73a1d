"""Stages die with their runner: one small watchdog process per runner.

A runner killed with SIGKILL (the OOM killer, a CI timeout) cannot end its stages.
Its watchdog can: a ``/bin/sh`` started once, in a session of its own, blocked
reading a pipe the runner never writes to. When the runner dies, however it dies,
the kernel closes the pipe; the watchdog reads end-of-file, then the list of stage
process groups the runner keeps in a small state file, and sends SIGKILL to each.
A group leaves the list when its stage ends, so a reused pid is never touched (a
process group id cannot be reused while any member of the group lives). At a normal
exit the list is empty.

Why not ``PR_SET_PDEATHSIG`` in each stage's leader: setting it needs code in the
child between fork and exec (``preexec_fn``), which makes Python fork instead of
vfork and costs about 1.1 ms per stage on a 2-core VM; it also reaches only the
leader, not the background jobs of its group. Keeping the list costs one
``pwrite(2)`` per stage start and end, and wakes nobody.

The watchdog removes the state file when it ends. A runner that exits with an empty
list removes it too, so that a watchdog killed by someone else leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import tempfile
import threading

SCRIPT = r"""
trap '' INT TERM HUP
state=$1
while read -r _; do :; done
groups=""
[ -f "$state" ] && read -r groups < "$state"
for p in $groups; do kill -9 "-$p" 2>/dev/null; done
rm -f "$state"
"""


class _Watchdog:
    """This process's watchdog: the pipe it waits on and the state file it reads."""

    def __init__(self) -> None:
        handle, self.path = tempfile.mkstemp(prefix="codex-orchestrator-watch-")
        self.state = handle
        self.owner = os.getpid()
        self.groups: list[int] = []
        self.width = 0
        read_end, self.pipe = os.pipe()
        try:
            subprocess.Popen(
                ["/bin/sh", "-c", SCRIPT, "watchdog", self.path],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            ).returncode = 0  # Popen must not reap it at exit: it outlives us
        finally:
            os.close(read_end)
        os.set_inheritable(self.pipe, False)
        os.set_inheritable(self.state, False)

    def set(self, pgid: int, live: bool) -> None:
        if live:
            self.groups.append(pgid)
        elif pgid in self.groups:
            self.groups.remove(pgid)
        line = " ".join(map(str, self.groups)).encode()
        # One pwrite, padded over the previous content: a reader never sees it empty.
        self.width = max(self.width, len(line))
        os.pwrite(self.state, line.ljust(self.width) + b"\n", 0)

    def forget(self) -> None:
        """At exit: remove the state file when no stage is listed (the watchdog, woken
        by the closed pipe, then finds none and kills nothing). A listed stage keeps it:
        the watchdog must end that stage."""
        if os.getpid() == self.owner and not self.groups:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


_lock = threading.Lock()
_watchdog: _Watchdog | None = None


def _current() -> _Watchdog | None:
    """This process's watchdog, started at first use (a forked child starts its own)."""
    global _watchdog  # noqa: PLW0603 - one watchdog per process
    if _watchdog is None or _watchdog.owner != os.getpid():
        try:
            _watchdog = _Watchdog()
        except OSError:
            return None
        atexit.register(_watchdog.forget)
    return _watchdog


def watch(pgid: int) -> None:
    """A stage started: its group is killed if the runner dies before ``release``."""
    _set(pgid, live=True)


def release(pgid: int) -> None:
    """The stage ended: its group is the watchdog's no more."""
    _set(pgid, live=False)


def _set(pgid: int, *, live: bool) -> None:
    with _lock:
        watchdog = _current()
        if watchdog is None:
            return
        with contextlib.suppress(OSError):  # a lost watchdog must not stop the run
            watchdog.set(pgid, live)
