"""Turning SIGINT/SIGTERM (and a ``halt`` gate) into a cancel request stages act on.

The handlers only record the signal and write one byte to a pipe: every running
stage's executor waits on that pipe (``fileno``), so all of them see the cancel at
once; the driver then records the run as cancelled and exits 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType, TracebackType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class CancelWatch:
    """A run's cancel signal; while active, SIGINT/SIGTERM set it instead of raising.

    Implements engine/executor.py's ``CancelSignal``: ``is_set`` and ``fileno``.
    """

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.read_fd: int | None = None
        self._write_fd: int | None = None
        self._previous: dict[signal.Signals, object] = {}
        self._lock = threading.Lock()

    @property
    def requested(self) -> bool:
        """Whether cancel was requested (a signal, or ``request``)."""
        return self.signal_name is not None

    def is_set(self) -> bool:
        """Whether cancel was requested."""
        return self.signal_name is not None

    def fileno(self) -> int | None:
        """Readable once cancel is requested (never read it), or None when not active."""
        return self.read_fd

    def request(self, name: str) -> None:
        """Request cancel (the first reason given is kept) and wake every waiting stage."""
        with self._lock:
            if self.signal_name is None:
                self.signal_name = name
            fd = self._write_fd
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.write(fd, b"x")

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes; no lock (the main thread may hold it).
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
        if self._write_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._write_fd, b"x")

    def __enter__(self) -> CancelWatch:
        # os.pipe() fds are not inherited by children; the write end must never block.
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self._write_fd, False)
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()
        with self._lock:
            for fd in (self.read_fd, self._write_fd):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.read_fd = self._write_fd = None
