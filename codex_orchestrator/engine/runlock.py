"""Owning a run: the ``.run.lock`` a runner holds while it writes the run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from filelock import FileLock, Timeout

from codex_orchestrator.engine.liveness import current_identity, runner_alive
from codex_orchestrator.errors import LockTimeout
from codex_orchestrator.store.evidence import read_lock_owner, write_lock_owner
from codex_orchestrator.store.layout import RunPaths


@contextlib.contextmanager
def hold_run_lock(paths: RunPaths) -> Iterator[None]:
    """Own a run while writing it; LockTimeout at once when another process does."""
    lock = FileLock(paths.lock, timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        owner = read_lock_owner(paths.lock_owner)
        holder = f" (pid {owner[0]})" if owner and runner_alive(*owner) else ""
        raise LockTimeout(
            f"run {paths.run_id} is locked by another codex-orchestrator process{holder}"
        ) from exc
    try:
        write_lock_owner(paths.lock_owner, *current_identity())
        yield
    finally:
        lock.release()
