"""Turning SIGINT/SIGTERM into a cancel request the run loop can act on safely.

The handlers only set a flag and wake the process loop through a pipe: the driver
then ends the running stage's tree, records the run as cancelled and exits 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType, TracebackType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class CancelWatch:
    """While active, SIGINT/SIGTERM request cancellation instead of raising."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.read_fd: int | None = None
        self._write_fd: int | None = None
        self._previous: dict[signal.Signals, object] = {}
        self._previous_wakeup = -1

    @property
    def requested(self) -> bool:
        """Whether a cancel signal arrived."""
        return self.signal_name is not None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> CancelWatch:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals cannot be handled here; the caller's thread owns them
        # os.pipe() fds are not inherited by children; the wakeup fd must not block.
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._previous_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.read_fd is None:
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._previous_wakeup)
        for fd in (self.read_fd, self._write_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.read_fd = self._write_fd = None
