"""Reading an NDJSON event log from an offset: whole lines only, bounded memory.

``logs`` reads a finished run once and follows a live one; either way a line the
runner is still writing (no newline yet) is left for the next read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

CHUNK_BYTES = 1 << 20


def read_new_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The complete events after ``offset`` (up to about 1 MiB of them), and the new offset.

    A line that is not JSON (a torn write a later runner will repair) is skipped.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(CHUNK_BYTES)
            if data and not data.endswith(b"\n"):
                more = handle.readline()  # finish the line the chunk cut, if it is whole
                data += more
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events: list[dict[str, Any]] = []
    for line in data[:end].splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events, offset + end


def iter_events(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete event of the file as it is now."""
    offset = 0
    while True:
        events, new_offset = read_new_events(path, offset)
        if new_offset == offset:
            return
        yield from events
        offset = new_offset
