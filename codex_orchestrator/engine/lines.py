"""Splitting a byte stream into lines with bounded memory, and keeping its tail."""

from __future__ import annotations

from codex_orchestrator.store.events import is_plain

MAX_LINE_BYTES = 256 * 1024
TAIL_BYTES = 8 * 1024


def _utf8_cut(data: bytes, start: int, limit: int) -> int:
    """A cut point at most ``limit`` bytes after ``start`` that keeps UTF-8 characters whole.

    Backs off over continuation bytes (10xxxxxx) to a character start, at most 3
    bytes; bytes that are not UTF-8 anyway are cut at the limit.
    """
    end = start + limit
    for back in range(4):
        position = end - back
        if position <= start:
            break
        if (data[position] & 0xC0) != 0x80:
            return position
    return end


Run = tuple[list[bytes], bool]
"""Consecutive pieces sharing one ``partial`` flag: the unit output is handled in."""


class LineSplitter:
    """Feeds bytes in, yields runs of ``(pieces, partial)`` out.

    Complete lines come without their ``\\n`` and ``partial=False``. A line longer
    than ``max_line`` comes in pieces with ``partial=True`` (the last piece, ended by
    the newline, has ``partial=False``). Bytes left at EOF come with ``partial=True``
    (no newline ended them). Concatenating ``piece + (b"" if partial else b"\\n")``
    over all runs gives back the exact input. Memory is bounded by ``max_line``.

    ``plain`` tells whether every piece the last ``feed`` or ``close`` returned is
    :func:`is_plain` (checked once over the bytes read, not line by line).
    """

    __slots__ = ("_buffer", "_max_line", "plain")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max_line = max_line
        self.plain = True

    def feed(self, data: bytes) -> list[Run]:
        """The runs of pieces completed by ``data``."""
        if self._buffer:
            self._buffer += data
            data = bytes(self._buffer)
            self._buffer.clear()
        # Every piece returned comes from data (the bytes held back included).
        self.plain = is_plain(data)
        end = data.rfind(b"\n")
        if end < 0:
            return self._keep(data)
        runs: list[Run] = []
        lines = data[:end].split(b"\n")
        # The common case needs no per-line check: no line can exceed the limit
        # when the whole chunk does not.
        if end > self._max_line and max(map(len, lines)) > self._max_line:
            pending: list[bytes] = []
            for line in lines:
                if len(line) > self._max_line:
                    if pending:
                        runs.append((pending, False))
                        pending = []
                    head, last = self._split_long(line)
                    runs.append((head, True))
                    pending.append(last)
                else:
                    pending.append(line)
            if pending:
                runs.append((pending, False))
        else:
            runs.append((lines, False))
        runs.extend(self._keep(data[end + 1 :]))
        return runs

    def _keep(self, rest: bytes) -> list[Run]:
        """Buffer an unfinished line; emit over-long parts of it at once."""
        if len(rest) <= self._max_line:
            self._buffer += rest
            return []
        head, last = self._split_long(rest)
        self._buffer += last
        return [(head, True)]

    def _split_long(self, line: bytes) -> tuple[list[bytes], bytes]:
        """Cut a line into full-size pieces and the remainder (at most the limit)."""
        pieces: list[bytes] = []
        start = 0
        limit = self._max_line
        while len(line) - start > limit:
            cut = _utf8_cut(line, start, limit)
            pieces.append(line[start:cut])
            start = cut
        return pieces, line[start:]

    def close(self) -> list[Run]:
        """Whatever is left at EOF, as one partial piece."""
        if not self._buffer:
            return []
        piece = bytes(self._buffer)
        self._buffer.clear()
        self.plain = is_plain(piece)
        return [([piece], True)]


class Tail:
    """The last ``size`` bytes of a stream, and whether anything before them was cut."""

    __slots__ = ("_buffer", "_size", "total")

    def __init__(self, size: int = TAIL_BYTES) -> None:
        self._buffer = bytearray()
        self._size = size
        self.total = 0

    def feed(self, data: bytes) -> None:
        """Remember ``data``'s end."""
        self.total += len(data)
        if len(data) >= self._size:
            self._buffer[:] = data[-self._size :]
        else:
            self._buffer += data
            if len(self._buffer) > 2 * self._size:
                del self._buffer[: -self._size]

    @property
    def truncated(self) -> bool:
        """Whether bytes before the tail were dropped from it."""
        return self.total > self._size

    def text(self) -> str:
        """The tail as text (undecodable bytes replaced)."""
        return bytes(self._buffer[-self._size :]).decode("utf-8", "replace")
