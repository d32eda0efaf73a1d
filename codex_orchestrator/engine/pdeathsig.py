"""The stage leader dies with the runner: ``PR_SET_PDEATHSIG`` where Linux has it.

A runner killed with SIGKILL (the OOM killer, a CI timeout) cannot end its stages; the
kernel can. The child asks for SIGKILL when its parent goes, between fork and exec.
The parent here is the *thread* that forked, so stages must be spawned from a thread
that lives as long as the run (the main thread does).

Everything the child calls is prepared in the parent: after fork only an already
bound C function runs (no import, no allocation to speak of).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return function


_PRCTL = _prctl()
_KILL = int(signal.SIGKILL)
_PR_SET_PDEATHSIG = ctypes.c_int(PR_SET_PDEATHSIG)
_SIGKILL = ctypes.c_ulong(_KILL)


def available() -> bool:
    """Whether this platform can tie a child's life to its parent's."""
    return _PRCTL is not None


def child_preexec(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that sets PDEATHSIG (None where the platform has none).

    It also checks that the parent is still ``parent_pid``: if the runner died
    between fork and the prctl call, the signal would never come, so the child ends.
    """
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, _SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(137)

    return preexec


_subreaper = False


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), once.

    A stage's background job whose parent exits is then re-parented to the runner, not
    to init, so the runner finds what a stage left behind among its own children
    (cheap) instead of scanning every process of the machine.
    """
    global _subreaper  # noqa: PLW0603 - one switch per process
    if _subreaper:
        return True
    if _PRCTL is None:
        return False
    _subreaper = _PRCTL(ctypes.c_int(PR_SET_CHILD_SUBREAPER), ctypes.c_ulong(1)) == 0
    return _subreaper


def own_children() -> list[int] | None:
    """The pids of this process's children (every thread's), or None where unknown."""
    pids: list[int] = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as handle:
                pids.extend(int(pid) for pid in handle.read().split())
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        except OSError:
            return None  # no CONFIG_PROC_CHILDREN
    return pids
