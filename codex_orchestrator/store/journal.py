"""``runner.ndjson`` as the journal of a run's state; readers merge it over the manifest.

The manifest is rewritten at most about once a second while a run goes on (and at its
end), not at every stage boundary. Every change of a stage's record is journaled
first, as a ``manifest:command`` event holding the whole record (a new child run as
``manifest:child``), and the manifest records in ``journal_offset`` how much of the
journal it reflects. A reader takes the manifest, then applies the journal's events
after that offset, so what it reports is never behind what the log proves. Output
events, the bulk of the file, are skipped by their first bytes without parsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.store.tail import EventTail

COMMAND_EVENT = "manifest:command"
CHILD_EVENT = "manifest:child"
_WANTED = (b'{"type":"manifest:', b'{"type":"run:end"', b'{"type":"command:session"')
_SESSION_KEYS = ("sid", "pgid", "leader_pid", "leader_create_time")
CHUNK = 4 * 1024 * 1024


def merge_journal(data: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """``data`` (a manifest dict) with the journal's newer events applied (a new dict).

    Manifests without ``journal_offset`` (older ones, the TypeScript tool's) are
    returned as they are.
    """
    offset = data.get("journal_offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return data
    tail = EventTail(run_dir / "runner.ndjson", offset)
    merged = dict(data)
    commands = list(merged.get("commands") or [])
    children = list(merged.get("child_runs") or [])
    changed = False
    while lines := tail.read(CHUNK):
        for _, line in lines:
            if not line.startswith(_WANTED):
                continue
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            changed |= _apply(event, merged, commands, children)
    if not changed:
        return data
    merged["commands"] = commands
    merged["child_runs"] = children
    merged["journal_offset"] = tail.offset
    return merged


def _apply(
    event: dict[str, Any],
    merged: dict[str, Any],
    commands: list[Any],
    children: list[Any],
) -> bool:
    kind = event.get("type")
    if kind == COMMAND_EVENT:
        record = event.get("record")
        index = record.get("index") if isinstance(record, dict) else None
        if not isinstance(index, int) or not 1 <= index <= len(commands):
            return False
        commands[index - 1] = record
        merged["updated_at"] = event.get("timestamp", merged.get("updated_at"))
        return True
    if kind == "command:session":
        index = event.get("index")
        if not isinstance(index, int) or not 1 <= index <= len(commands):
            return False
        if not isinstance(commands[index - 1], dict):
            return False
        group = {key: event.get(key) for key in _SESSION_KEYS}
        commands[index - 1] = {**commands[index - 1], "process_group": group}
        return True
    if kind == CHILD_EVENT:
        child = event.get("child")
        if not isinstance(child, dict):
            return False
        children[:] = [
            c
            for c in children
            if not (isinstance(c, dict) and c.get("run_id") == child.get("run_id"))
        ]
        children.append(child)
        return True
    if kind == "run:end":
        for key in ("status", "status_detail"):
            if key in event:
                merged[key] = event[key]
        merged["completed_at"] = event.get("timestamp", merged.get("completed_at"))
        return True
    return False
