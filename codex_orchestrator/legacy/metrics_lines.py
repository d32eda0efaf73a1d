"""Streaming ``metrics.json`` (JSON Lines): one object at a time, bad lines reported, never held.

Memory is bounded by the longest line we accept, not by the file: a line longer than
``MAX_LINE_BYTES`` is reported as a parse error and skipped in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

MAX_LINE_BYTES = 8 * 1024 * 1024
RAW_PREVIEW_CHARS = 500
_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseError:
    """A line that is not a JSON object: its 1-based number, why, and its start."""

    line: int
    error: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        """As the summary lists it."""
        return {"line": self.line, "error": self.error, "raw": self.raw}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A line that is a JSON object."""

    line: int
    data: dict[str, Any]


def read_entries(path: Path) -> Iterator[Entry | ParseError]:
    """Every non-blank line of ``path`` in order, as an Entry or a ParseError."""
    with path.open("rb") as stream:
        yield from _read(stream)


def _read(stream: IO[bytes]) -> Iterator[Entry | ParseError]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield ParseError(
                line=number, error=f"line longer than {MAX_LINE_BYTES} bytes", raw=_preview(line)
            )
            continue
        text = line.strip()
        if text:
            yield _parse(number, text)


def _parse(number: int, text: bytes) -> Entry | ParseError:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return ParseError(line=number, error=f"not JSON: {exc}", raw=_preview(text))
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        return ParseError(line=number, error=f"not a JSON object ({kind})", raw=_preview(text))
    return Entry(line=number, data=data)


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while True:
        chunk = stream.readline(_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


def _preview(raw: bytes) -> str:
    text = raw[: RAW_PREVIEW_CHARS * 4].decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "..."
