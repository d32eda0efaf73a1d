"""Instances of runs kept before this feature (or lost): rebuilt from commands and logs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson

from codex_orchestrator.model import CommandRecord
from codex_orchestrator.store.events import decode_output_event
from codex_orchestrator.store.layout import RunsLayout, command_file_stem

_OUTPUT_TYPES = (b'"command:stdout"', b'"command:stderr"')


def command_log_of(layout: RunsLayout, manifest_path: Path, record: CommandRecord) -> Path:
    """The command's NDJSON log: as recorded, else ``commands/NN-slug.ndjson`` beside it."""
    if record.log_path:
        recorded = layout.from_recorded(record.log_path)
        if recorded.is_file():
            return recorded
    stem = command_file_stem(record.index, record.id)
    return manifest_path.parent / "commands" / f"{stem}.ndjson"


def rebuild_output_log(source: Path, destination: Path) -> bool:
    """Write ``output.log`` from a command's output events, byte for byte; False if none.

    Streamed line by line, so a huge log needs little memory. Lines that do not parse
    (a torn last line) are skipped.
    """
    if not source.is_file():
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    temp = destination.with_name(f".{destination.name}.rebuild")
    with source.open("rb") as events, temp.open("wb") as out:
        for line in events:
            if not any(kind in line for kind in _OUTPUT_TYPES):
                continue
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, ValueError):
                event = orjson.loads(line)
                if event.get("type") in ("command:stdout", "command:stderr"):
                    out.write(decode_output_event(event))
    os.replace(temp, destination)
    return True
