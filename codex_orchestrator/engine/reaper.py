"""The runner is the subreaper of its stages: their orphans become its children.

A stage's background job whose parent exits is re-parented to the runner, not to
init, so the runner finds what a stage left behind among its own children (a few
small reads of /proc) instead of scanning every process of the machine.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

from codex_orchestrator.engine.procfs import read_small

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


_subreaper = False


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), once."""
    global _subreaper  # noqa: PLW0603 - one switch per process
    if _subreaper:
        return True
    if _PRCTL is None:
        return False
    _subreaper = _PRCTL(ctypes.c_int(PR_SET_CHILD_SUBREAPER), ctypes.c_ulong(1)) == 0
    return _subreaper


def own_children() -> list[int] | None:
    """The pids of this process's orphaned descendants, or None where unknown.

    The kernel re-parents an orphan to a subreaper's first live thread, its main
    thread: only that thread's ``children`` file is read (a stage's own leader, a
    child of the thread that spawned it, has been reaped by then).
    """
    pid = os.getpid()
    try:
        return [int(child) for child in read_small(f"/proc/{pid}/task/{pid}/children").split()]
    except OSError:
        pass
    try:
        return _children("self")
    except FileNotFoundError:
        return None


def _children(pid: str) -> list[int] | None:
    """The children of every thread of ``pid`` (FileNotFoundError when it is gone;
    None where /proc has no ``children`` files)."""
    pids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        raise
    except OSError:
        return None
    for tid in tasks:
        try:
            children = read_small(f"/proc/{pid}/task/{tid}/children")
            pids.extend(int(child) for child in children.split())
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        except OSError:
            return None  # no CONFIG_PROC_CHILDREN
    return pids


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(pid: int) -> int | None:
    """The resident memory of ``pid`` and its descendants, in bytes, from /proc (each
    process's ``task/*/children`` and ``statm``): a few reads per process, where
    psutil's ``children(recursive=True)`` reads every process of the machine.
    None where /proc cannot tell (then ask psutil)."""
    total = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            total += int(read_small(f"/proc/{current}/statm").split()[1]) * _PAGE
            children = _children(str(current))
        except FileNotFoundError:
            continue  # it ended meanwhile
        except (OSError, ValueError, IndexError):
            return None
        if children is None:
            return None
        pending.extend(children)
    return total
