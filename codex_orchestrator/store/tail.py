"""Reading event logs while they grow, and their last lines, with bounded memory.

Readers never trust a path blindly: ``within_runs`` resolves links and refuses any
file whose real location is outside the runs directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.store.layout import RunsLayout

READ_CHUNK = 256 * 1024
# A single event line is bounded by the writer (over-long output lines are split);
# anything longer than this without a newline is treated as torn.
MAX_LINE = 16 * 1024 * 1024


def within_runs(layout: RunsLayout, path: Path) -> Path | None:
    """``path`` with links resolved when it lies inside the runs directory, else None."""
    runs_real = Path(os.path.realpath(layout.runs_dir))
    real = Path(os.path.realpath(path))
    return real if real.is_relative_to(runs_real) else None


@dataclass(slots=True)
class EventTail:
    """Whole lines appended to an NDJSON file since ``offset``; a torn last line waits.

    Nothing is buffered between reads: every read starts at the end of the last whole
    line, so a torn tail that a resumed runner repairs (truncate, re-write) is read as
    the file now holds it.
    """

    path: Path
    offset: int = 0

    def read(self, limit: int = READ_CHUNK) -> list[tuple[int, bytes]]:
        """The next whole lines (up to about ``limit`` bytes), each with its end offset."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return []
        try:
            chunk = os.pread(fd, limit, self.offset)
            while b"\n" not in chunk and len(chunk) >= limit and limit < MAX_LINE:
                limit *= 4
                chunk = os.pread(fd, limit, self.offset)
        finally:
            os.close(fd)
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        lines = []
        position = self.offset
        for line in chunk[: end + 1].splitlines(keepends=True):
            position += len(line)
            if line.strip():
                lines.append((position, line.rstrip(b"\r\n")))
        self.offset = position
        return lines

    def remainder(self) -> bytes:
        """Bytes after the last whole line: a torn line, once its writer is gone."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                return handle.read(MAX_LINE)
        except OSError:
            return b""

    def starts_line(self, offset: int) -> bool:
        """Whether ``offset`` is the start of a line (0, or just after a newline)."""
        if offset == 0:
            return True
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            return os.pread(fd, 1, offset - 1) == b"\n"
        finally:
            os.close(fd)


def last_lines(path: Path, count: int, max_bytes: int = 1024 * 1024) -> list[bytes]:
    """The last ``count`` whole lines of a file, reading at most ``max_bytes`` from its end."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return []
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - max_bytes)
        data = os.pread(fd, size - start, start)
    finally:
        os.close(fd)
    if start > 0:
        first = data.find(b"\n")
        data = data[first + 1 :] if first >= 0 else b""
    end = data.rfind(b"\n")
    lines = [line for line in data[: end + 1].splitlines() if line.strip()]
    return lines[-count:] if count > 0 else []
