"""``logs``: a run's command output rebuilt from its events, bytes exact; ``--follow``.

Output events carry one line each (``data``, or its exact bytes in ``data_b64``), so
the bytes a command printed are the concatenation of its events, newline restored
unless the piece is ``partial``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.engine.liveness import runner_alive
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import RunManifest, RunStatus
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.events import decode_output_event
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict
from codex_orchestrator.store.tail import EventTail

STREAMS = ("stdout", "stderr")
POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True, kw_only=True)
class LogsRequest:
    """Whose output to print."""

    root: Path
    run_id: str
    task: str | None = None
    stage: str | None = None
    stream: str | None = None
    follow: bool = False


def print_logs(request: LogsRequest, write: Callable[[bytes], None]) -> RunStatus | None:
    """Write the run's output through ``write``; with ``follow``, until the run ends.

    Returns the run's status as the manifest has it at the end (None when unknown).
    """
    if request.stream is not None and request.stream not in STREAMS:
        raise InvalidInput(f"--stream {request.stream}: expected stdout or stderr")
    layout = RunsLayout.for_root(request.root)
    task = resolve_task_id(request.task) if request.task is not None else None
    ref = locate_run(layout, request.run_id, task)
    manifest = RunManifest.from_dict(read_manifest_dict(ref.manifest_path))
    index = _stage_index(manifest, request.stage)
    wanted = {f"command:{s}" for s in ((request.stream,) if request.stream else STREAMS)}
    log = ref.manifest_path.parent / "runner.ndjson"

    def select(events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
        for event in events:
            if event.get("type") in wanted and (index is None or event.get("index") == index):
                yield decode_output_event(event)

    tail, ended = EventTail(log), False
    while True:
        lines = tail.read()
        events = _parsed(lines)
        chunk = b"".join(select(events))
        if chunk:
            write(chunk)
        ended = _ended(events, ended)
        if lines:
            continue
        if not request.follow or ended:
            break
        current = RunManifest.from_dict(read_manifest_dict(ref.manifest_path))
        if not runner_alive(current.runner_pid, current.runner_create_time):
            # The runner is gone: what it wrote is all there will be. One more read
            # catches lines written between the last read and its exit.
            rest = b"".join(select(_parsed(tail.read())))
            if rest:
                write(rest)
            break
        time.sleep(POLL_SECONDS)
    return RunManifest.from_dict(read_manifest_dict(ref.manifest_path)).status


def _parsed(lines: list[tuple[int, bytes]]) -> list[dict[str, Any]]:
    """The events among ``lines``; a line that is not a JSON object is skipped."""
    events = []
    for _, line in lines:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _ended(events: list[dict[str, Any]], ended: bool) -> bool:
    """Whether the log's last lifecycle event so far says the run ended."""
    for event in events:
        kind = event.get("type")
        if kind == "run:end":
            ended = True
        elif kind in ("run:start", "run:resume"):
            ended = False
    return ended


def _stage_index(manifest: RunManifest, stage: str | None) -> int | None:
    if stage is None:
        return None
    for record in manifest.commands:
        if record.id == stage:
            return record.index
    known = ", ".join(record.id for record in manifest.commands) or "none"
    raise InvalidInput(f"--stage {stage}: run {manifest.run_id} has no such stage ({known})")
