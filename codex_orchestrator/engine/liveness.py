"""Is a run's runner still alive? psutil pid + create time, so a reused pid is not it."""

from __future__ import annotations

import psutil

CREATE_TIME_TOLERANCE = 0.05


def current_identity() -> tuple[int, float]:
    """This process's pid and create time, as the manifest records them."""
    me = psutil.Process()
    return me.pid, me.create_time()


def runner_alive(pid: int | None, create_time: float | None) -> bool:
    """Whether the process with this pid is the same one that started the run."""
    if pid is None or pid <= 0:
        return False  # a hand-edited or hostile manifest: no process is it
    try:
        process = psutil.Process(pid)
        if (
            create_time is not None
            and abs(process.create_time() - create_time) > CREATE_TIME_TOLERANCE
        ):
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
