"""Full-text search over kept text files and output logs (SQLite FTS5 under ``.runs``).

One row per line: ``artifacts search`` answers with the run, task, instance, path and
line of each hit and a snippet. A run is (re)indexed whenever it is collected; at most
``MAX_FILE_BYTES`` of each file are indexed, and files with NUL bytes are skipped.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from codex_orchestrator.artifacts.records import FileKind, KeptFile
from codex_orchestrator.artifacts.runs import RunArtifacts
from codex_orchestrator.errors import InvalidInput, StoreError
from codex_orchestrator.store.layout import RunsLayout

MAX_FILE_BYTES = 4 * 1024 * 1024
SNIFF_BYTES = 8192
OUTPUT_LOG = "output.log"
_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS lines USING fts5("
    "text, run_id UNINDEXED, task_id UNINDEXED, instance UNINDEXED, path UNINDEXED, "
    "line UNINDEXED)"
)


@contextlib.contextmanager
def connect(layout: RunsLayout) -> Iterator[sqlite3.Connection]:
    """The index (created on first use), with a generous busy timeout for parallel runs."""
    path = layout.search_index()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=60)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the search index {path}: {exc}") from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(_SCHEMA)
        yield db
    finally:
        db.close()


def index_run(
    run: RunArtifacts, instances: Sequence[dict[str, Any]], files: Sequence[KeptFile]
) -> int:
    """Replace a run's rows with its output logs and kept text files; rows written."""
    run_id, task_id = run.manifest.run_id, run.ref.task_id
    rows = 0
    with connect(run.layout) as db, db:
        db.execute("DELETE FROM lines WHERE run_id = ?", (run_id,))
        for instance, path, handle in _documents(run, instances, files):
            batch = [
                (text, run_id, task_id, instance, path, number) for number, text in _lines(handle)
            ]
            db.executemany(
                "INSERT INTO lines (text, run_id, task_id, instance, path, line) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            rows += len(batch)
    return rows


def forget_run(layout: RunsLayout, run_id: str) -> None:
    """Drop a run's rows (its kept files were pruned)."""
    if layout.search_index().exists():
        with connect(layout) as db, db:
            db.execute("DELETE FROM lines WHERE run_id = ?", (run_id,))


def _documents(
    run: RunArtifacts, instances: Sequence[dict[str, Any]], files: Sequence[KeptFile]
) -> Iterator[tuple[str, str, IO[bytes]]]:
    if run.packed:
        from codex_orchestrator.artifacts.pack import iter_members

        for member, handle in iter_members(run.paths.pack):
            parts = member.name.split("/")
            if handle is None or len(parts) < 3:
                continue
            instance, path = _split_member(parts[1:])
            if path is not None:
                yield instance, path, handle
        return
    for item in instances:
        instance = str(item.get("instance_id"))
        log = run.paths.instance_by_id(instance).output_log
        with contextlib.suppress(OSError), log.open("rb") as handle:
            yield instance, OUTPUT_LOG, handle
    for entry in files:
        if entry.kind is not FileKind.FILE:
            continue
        kept = run.paths.instance_by_id(entry.instance).workspace / entry.path
        with contextlib.suppress(OSError), kept.open("rb") as handle:
            yield entry.instance, entry.path, handle


def _split_member(parts: list[str]) -> tuple[str, str | None]:
    """``NN/instances/MM/workspace/p`` -> (``NN/MM``, ``p``); output.log too."""
    stems = [parts[0]]
    rest = parts[1:]
    while len(rest) >= 2 and rest[0] == "instances":
        stems.append(rest[1])
        rest = rest[2:]
    instance = "/".join(stems)
    if rest == [OUTPUT_LOG]:
        return instance, OUTPUT_LOG
    if len(rest) >= 2 and rest[0] == "workspace":
        return instance, "/".join(rest[1:])
    return instance, None


def _lines(handle: IO[bytes]) -> Iterable[tuple[int, str]]:
    head = handle.read(SNIFF_BYTES)
    if b"\0" in head:
        return []
    data = head + handle.read(MAX_FILE_BYTES - len(head))
    text = data.decode("utf-8", "replace")
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def search(
    layout: RunsLayout,
    query: str,
    *,
    task: str | None = None,
    run_id: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Hits ``{run_id, task_id, instance, path, line, snippet}``, best first."""
    if not query.strip():
        raise InvalidInput("the search query is empty")
    if not layout.search_index().exists():
        return []
    sql = (
        "SELECT run_id, task_id, instance, path, line, "
        "snippet(lines, 0, '[', ']', '…', 16) FROM lines WHERE lines MATCH ?"
    )
    params: list[Any] = []
    if task is not None:
        sql += " AND task_id = ?"
        params.append(task)
    if run_id is not None:
        sql += " AND run_id = ?"
        params.append(run_id)
    sql += " ORDER BY rank LIMIT ?"
    with connect(layout) as db:
        try:
            rows = db.execute(sql, [query, *params, limit]).fetchall()
        except sqlite3.OperationalError:
            # Not FTS5 syntax (a stray quote, a colon): search for its words, all of them.
            words = " ".join(f'"{word}"' for word in re.findall(r"\w+", query))
            if not words:
                raise InvalidInput(f"search query {query!r} has no words to find") from None
            rows = db.execute(sql, [words, *params, limit]).fetchall()
    keys = ("run_id", "task_id", "instance", "path", "line", "snippet")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def index_path(layout: RunsLayout) -> Path:
    """Where the index lives (for documentation and tests)."""
    return layout.search_index()
