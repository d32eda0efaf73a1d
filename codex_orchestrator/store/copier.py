"""A background thread that writes the second copy of heavy output.

Every output event goes to ``runner.ndjson`` synchronously (a runner killed with
SIGKILL loses no line it had read) and to the command's own file. When a command
prints a lot, that second write is handed to this thread, so the kernel copies it
on the other core while the runner encodes the next batch. The queue is bounded,
so memory stays bounded; an error is raised on the runner's next call.
"""

from __future__ import annotations

import os
import queue
import threading

from codex_orchestrator.store.fsutil import write_all
from codex_orchestrator.store.pagecache import CacheTrim

QUEUE_DEPTH = 8

_Item = tuple[int, bytes | None, CacheTrim | None]  # (fd, data, trim); data None closes fd


class BackgroundCopier:
    """Writes ``(fd, bytes)`` items in order on one thread; closes fds when told."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._work, name="output-copier", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fd, data, trim = item
            try:
                if data is None:
                    os.close(fd)
                    continue
                if self._error is not None:
                    continue  # the error is raised on the runner's next call
                write_all(fd, data)
                if trim is not None:
                    trim.wrote(fd, len(data))
            except OSError as exc:
                if self._error is None:
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, fd: int, data: bytes, trim: CacheTrim | None = None) -> None:
        """Queue ``data`` for ``fd`` (blocks while the queue is full); ``trim`` is
        told once it is written."""
        self._check()
        self._queue.put((fd, data, trim))

    def close_fd(self, fd: int) -> None:
        """Close ``fd`` after everything queued for it."""
        self._queue.put((fd, None, None))

    def finish(self) -> None:
        """Write everything queued, stop the thread, raise any error it met."""
        self._queue.put(None)
        self._thread.join()
        self._check()
