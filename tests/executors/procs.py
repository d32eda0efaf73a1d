"""What is left of a process a stage started (the tests' view of a worker's host)."""

from __future__ import annotations

import psutil


def process_ended(pid: int) -> bool:
    """Whether ``pid`` is gone or a zombie (ended, not yet reaped by its parent)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
