"""Masking secret values in output streams and texts: each becomes ``***``.

The values are those of the runner's environment variables whose names match
``secrets.maskEnv`` (``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*_KEY`` by default),
6 characters or longer. A value may arrive split across two reads of a pipe, so the
streaming masker holds back the end of a chunk that could begin a value (at most the
longest value's length minus one byte) until the next chunk or the end of the stream.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence

MASK = b"***"
MIN_SECRET_CHARS = 6


def secret_values(env: Mapping[str, str], patterns: Iterable[str]) -> tuple[bytes, ...]:
    """The values to mask: of variables whose names match a pattern (ignoring case)."""
    globs = [pattern.upper() for pattern in patterns]
    values = {
        value.encode("utf-8", "surrogateescape")
        for name, value in env.items()
        if len(value) >= MIN_SECRET_CHARS
        and any(fnmatch.fnmatchcase(name.upper(), glob) for glob in globs)
    }
    return tuple(sorted(values, key=lambda value: (-len(value), value)))


class Masker:
    """Replaces known values in one byte stream; feed chunks, then close."""

    __slots__ = ("_held", "_hold_max", "_prefixes", "_regex", "_values")

    def __init__(self, values: Sequence[bytes]) -> None:
        # Longest first, so that a value containing another is masked whole.
        self._values = sorted({v for v in values if v}, key=len, reverse=True)
        alternation = b"|".join(re.escape(value) for value in self._values)
        self._regex = re.compile(alternation) if self._values else None
        self._prefixes = {value[:cut] for value in self._values for cut in range(1, len(value))}
        self._hold_max = max((len(value) for value in self._values), default=1) - 1
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        """The masked bytes that are safe to pass on now."""
        if self._regex is None:
            return data
        text = self._held + data if self._held else data
        cut = self._safe_end(text)
        self._held = text[cut:]
        return self._regex.sub(MASK, text[:cut])

    def close(self) -> bytes:
        """Whatever was held back (it cannot be a whole value)."""
        rest, self._held = self._held, b""
        return self._regex.sub(MASK, rest) if self._regex is not None else rest

    def _safe_end(self, text: bytes) -> int:
        """Where the bytes that might still become (part of) a value begin.

        That is the first position near the end whose rest is a proper prefix of a
        value; but a whole value found before it and running past it wins (the regex
        takes the leftmost match), and the search goes on after that value.
        """
        assert self._regex is not None  # noqa: S101 - only called when there are values
        window = max(0, len(text) - self._hold_max)
        cut = self._hold_from(text, window)
        for match in self._regex.finditer(text):
            if match.start() >= cut:
                break
            if match.end() > cut:
                cut = self._hold_from(text, max(window, match.end()))
        return cut

    def _hold_from(self, text: bytes, start: int) -> int:
        for position in range(start, len(text)):
            if text[position:] in self._prefixes:
                return position
        return len(text)


def mask_text(text: str, values: Sequence[bytes]) -> str:
    """``text`` with every value replaced (for commands and messages written as evidence)."""
    if not values:
        return text
    masker = Masker(values)
    raw = text.encode("utf-8", "surrogateescape")
    return (masker.feed(raw) + masker.close()).decode("utf-8", "surrogateescape")
