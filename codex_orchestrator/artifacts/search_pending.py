"""The runs collected at their end and not yet in the full-text index.

The collect at the end of a run notes the run here instead of indexing it (see
``artifacts/search.py``); the next search takes the notes and indexes those runs.
Kept apart from the index itself so that a run never imports SQLite.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import orjson
from filelock import FileLock, Timeout

from codex_orchestrator.artifacts.runs import RunArtifacts
from codex_orchestrator.store.fsutil import append_line_locked, lock_path_for
from codex_orchestrator.store.layout import RunsLayout

PENDING_NAME = "search-pending.ndjson"
PENDING_LOCK_SECONDS = 30.0


def pending_path(layout: RunsLayout) -> Path:
    """``.runs/.artifacts/search-pending.ndjson``, beside the index."""
    return layout.search_index().with_name(PENDING_NAME)


def defer_index(run: RunArtifacts) -> None:
    """Note a collected run for indexing at the next search."""
    entry = {"task_id": run.ref.task_id, "run_id": run.manifest.run_id}
    pending = pending_path(run.layout)
    pending.parent.mkdir(parents=True, exist_ok=True)  # absent when artifacts moved
    append_line_locked(pending, orjson.dumps(entry))


def take_pending(layout: RunsLayout) -> list[tuple[str, str]]:
    """The noted runs as ``(task_id, run_id)``, once each; the notes are used up.

    Nothing when another search holds them (it is indexing them now).
    """
    pending = pending_path(layout)
    if not pending.exists():
        return []
    try:
        with FileLock(lock_path_for(pending), timeout=PENDING_LOCK_SECONDS):
            noted = pending.read_bytes()
            pending.unlink()
    except (Timeout, OSError):
        return []
    runs: dict[tuple[str, str], None] = {}
    for line in noted.splitlines():
        with contextlib.suppress(orjson.JSONDecodeError, TypeError, KeyError):
            entry = orjson.loads(line)
            runs[(str(entry["task_id"]), str(entry["run_id"]))] = None
    return list(runs)
