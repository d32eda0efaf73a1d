"""``GET /runs/{run_id}/events``: a run's events as server-sent events.

A finished run is replayed; a live one is followed (the log is polled a few times a
second, so a new event is sent well within a second of being written) until the run
ends. Each event's ``id`` is the byte offset just after its line, so a client that
reconnects with ``Last-Event-ID`` continues where it stopped. The stream ends with one
``end`` event ``{status, lost}``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson

from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import now_iso
from codex_orchestrator.server.service import RunsService
from codex_orchestrator.store.catalog import RunRef
from codex_orchestrator.store.events import TORN_EVENT
from codex_orchestrator.store.tail import EventTail
from codex_orchestrator.views.status import read_status

POLL_SECONDS = 0.2
# The manifest turns terminal just before the runner writes ``run:end``: wait this
# long for it before ending a stream (older runs never wrote one).
END_GRACE_SECONDS = 2.0
KEEPALIVE_SECONDS = 15.0
# Output events start {"type":"command:stdout"|"command:stderr",...}: a byte check
# skips them without parsing.
_OUTPUT_MARK = b'"type":"command:std'
_MARK_WINDOW = 40


def start_offset(path: Path | None, last_event_id: str | None) -> int:
    """Where to start reading: after the client's last event when that is a line start."""
    if path is None or not last_event_id or not last_event_id.isdigit():
        return 0
    offset = int(last_event_id)
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    if offset > size or not EventTail(path).starts_line(offset):
        return 0
    return offset


def frame(data: bytes, *, event: str | None = None, event_id: int | None = None) -> bytes:
    """One server-sent event."""
    head = b""
    if event is not None:
        head += b"event: " + event.encode() + b"\n"
    if event_id is not None:
        head += b"id: " + str(event_id).encode() + b"\n"
    return head + b"data: " + data + b"\n\n"


def _checked(line: bytes) -> tuple[bytes, bool]:
    """The line as JSON to send, and whether it is the run's ``run:end``."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        event = None
    if not isinstance(event, dict):
        torn = {"type": TORN_EVENT, "data_b64": base64.b64encode(line).decode()}
        return orjson.dumps(torn), False
    return line, event.get("type") == "run:end"


async def run_events(
    service: RunsService, ref: RunRef, offset: int, *, output: bool = True
) -> AsyncIterator[bytes]:
    """The SSE byte stream of one run's ``runner.ndjson`` from ``offset``.

    ``output=False`` leaves out the output lines (``command:stdout``/``stderr``).
    """
    path = service.events_file(ref)
    tail = EventTail(path, offset) if path is not None else None
    saw_end = False
    terminal_since: float | None = None
    last_sent = time.monotonic()
    while True:
        lines = tail.read() if tail is not None else []
        for end, line in lines:
            if not output and _OUTPUT_MARK in line[:_MARK_WINDOW]:
                continue
            data, is_end = _checked(line)
            saw_end = saw_end or is_end
            yield frame(data, event_id=end)
        if lines:
            last_sent = time.monotonic()
            await asyncio.sleep(0)
            continue
        status, lost = _state(service, ref)
        if status is None or lost or saw_end or _past_grace(status, terminal_since):
            if lost and tail is not None:
                torn = tail.remainder()
                if torn:
                    event = {
                        "type": TORN_EVENT,
                        "timestamp": now_iso(),
                        "data_b64": base64.b64encode(torn).decode(),
                    }
                    yield frame(orjson.dumps(event))
            yield frame(orjson.dumps({"status": status, "lost": lost}), event="end")
            return
        if status in _TERMINAL and terminal_since is None:
            terminal_since = time.monotonic()
        if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
            last_sent = time.monotonic()
            yield b": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


_TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def _past_grace(status: str, terminal_since: float | None) -> bool:
    if status not in _TERMINAL or terminal_since is None:
        return False
    return time.monotonic() - terminal_since >= END_GRACE_SECONDS


def _state(service: RunsService, ref: RunRef) -> tuple[str | None, bool]:
    """The run's status and whether its runner is lost; (None, False) when unreadable."""
    try:
        view = read_status(ref, service.layout)
    except OrchestratorError:
        return None, False
    return str(view.manifest.status), view.lost
