"""Dropping what a big log has written from the page cache, a little behind its end.

A command that prints millions of lines makes the runner write hundreds of megabytes
of events (one JSON event a line, in two files) that nobody reads back while the run
goes on. Left to the kernel, every page of them stays cached until memory runs short:
a run evicts the user's own working set, and on virtual machines whose free memory is
handed back to the host, each new page costs a fault in the hypervisor, several times
the copy itself. So every few megabytes the pages written more than a few megabytes
ago are dropped (``POSIX_FADV_DONTNEED``, which first starts their write-back): the
cache holds a small window per file, recycled. Readers following the tail find it
cached; older parts are read from disk. Nothing is lost: dropping a page never drops
data the file holds.
"""

from __future__ import annotations

import os

TRIM_EVERY = 8 * 1024 * 1024
KEEP_CACHED = 8 * 1024 * 1024

_ADVISE = getattr(os, "posix_fadvise", None)


class CacheTrim:
    """Follows one append-only file descriptor; call ``wrote`` after each write."""

    __slots__ = ("_pending", "_trimmed")

    def __init__(self) -> None:
        self._pending = 0
        self._trimmed = 0

    def wrote(self, fd: int, size: int) -> None:
        """``size`` more bytes were appended to ``fd``."""
        self._pending += size
        if self._pending < TRIM_EVERY or _ADVISE is None:
            return
        self._pending = 0
        try:
            end = os.lseek(fd, 0, os.SEEK_CUR)
            upto = end - KEEP_CACHED
            # From one window back: pages still being written out last time are
            # clean by now and go too.
            start = max(0, min(self._trimmed, upto) - TRIM_EVERY)
            if upto > start:
                _ADVISE(fd, start, upto - start, os.POSIX_FADV_DONTNEED)
                self._trimmed = upto
        except OSError:
            pass  # advice only: a filesystem that refuses it keeps its cache
