"""Reading a stage's Dask output queue on a thread, and what a job's environment adds."""

from __future__ import annotations

import contextlib
import os
import queue as stdqueue
import threading
import time
from collections.abc import Mapping
from typing import Any

from codex_orchestrator.executors.dask_job import END

STOP_WAIT_SECONDS = 5.0


class QueueReader:
    """Blocks on the stage's Dask queue in a thread; the stage loop takes what it read.

    The get has no timeout: the scheduler logs every timed-out get as an error with a
    traceback, which would fill its log with one per tick and stage.
    """

    def __init__(self, queue: Any, size: int) -> None:
        self.queue = queue
        self.local: stdqueue.Queue[list[Any]] = stdqueue.Queue(maxsize=size)
        self.thread = threading.Thread(target=self._pump, name=f"{queue.name}-reader", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while True:
            try:
                message = list(self.queue.get())
            except Exception:  # the scheduler went away: the stage loop finds out
                self.local.put([END])
                return
            self.local.put(message)
            if message and message[0] == END:
                return

    def take(self, timeout: float) -> list[list[Any]]:
        """What arrived: waits up to ``timeout`` for a first message, not for more."""
        try:
            messages = [self.local.get(timeout=timeout)]
        except stdqueue.Empty:
            return []
        with contextlib.suppress(stdqueue.Empty):
            while True:
                messages.append(self.local.get_nowait())
        return messages

    def stop(self, ended: bool) -> None:
        """Release the queue; an end marker of our own wakes a reader still waiting."""
        if not ended and self.thread.is_alive():
            with contextlib.suppress(Exception):
                self.queue.put([END], timeout=STOP_WAIT_SECONDS)
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while self.thread.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(stdqueue.Empty):
                    self.local.get(timeout=0.1)
        self.thread.join(timeout=STOP_WAIT_SECONDS)
        with contextlib.suppress(Exception):
            self.queue.close()


def overlay(env: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """How a stage's environment differs from the runner's: variables set, and unset.

    The worker's own environment is the base on the worker, so the runner's PATH,
    HOME or other variables are not shipped through the scheduler.
    """
    changed = {key: value for key, value in env.items() if os.environ.get(key) != value}
    return changed, tuple(key for key in os.environ if key not in env)
