"""Full-text search over kept text files and output logs (SQLite FTS5 under ``.runs``).

One row per line: ``artifacts search`` answers with the run, task, instance, path and
line of each hit and a snippet. A run is (re)indexed whenever it is collected; at most
``MAX_FILE_BYTES`` of each file are indexed, and files with NUL bytes are skipped.

The collect at the end of a run does not index there and then (full-text indexing of
a large output log would cost the run more than everything else it does): it notes
the run in ``search-pending.ndjson`` beside the index, and every search first indexes
the runs noted since the last one, so a search never misses a collected run.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from codex_orchestrator.artifacts.instances import read_json
from codex_orchestrator.artifacts.records import FileKind, KeptFile
from codex_orchestrator.artifacts.runs import RunArtifacts, open_ref
from codex_orchestrator.artifacts.search_pending import take_pending
from codex_orchestrator.errors import InvalidInput, OrchestratorError, StoreError
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.layout import RunsLayout

MAX_FILE_BYTES = 2 * 1024 * 1024
SNIFF_BYTES = 8192
READ_BYTES = 64 * 1024
MAX_LINE_BYTES = 4096  # of one line; the index is for finding, get returns the whole file
BLOCK_LINES = 64
SNIPPET_CHARS = 120
OUTPUT_LOG = "output.log"
# Blocks of lines in a plain table (indexed by run, so a run's rows go quickly), and
# an FTS5 index over their text that stores no second copy (external content).
_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS blocks (id INTEGER PRIMARY KEY, run_id TEXT, task_id TEXT, "
        "instance TEXT, path TEXT, line INTEGER, text TEXT)"
    ),
    "CREATE INDEX IF NOT EXISTS blocks_run ON blocks (run_id)",
    (
        "CREATE VIRTUAL TABLE IF NOT EXISTS blocks_fts USING fts5("
        "text, content='blocks', content_rowid='id')"
    ),
)
_INSERT = "INSERT INTO blocks (run_id, task_id, instance, path, line, text) VALUES (?,?,?,?,?,?)"


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
        for statement in _SCHEMA:
            db.execute(statement)
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
        _delete_run(db, run_id)
        first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM blocks").fetchone()[0]
        for instance, path, handle in _documents(run, instances, files):
            db.executemany(
                _INSERT, ((run_id, task_id, instance, path, n, t) for n, t in _blocks(handle))
            )
        db.execute(
            "INSERT INTO blocks_fts (rowid, text) SELECT id, text FROM blocks WHERE id >= ?",
            (first,),
        )
        rows = db.execute("SELECT count(*) FROM blocks WHERE run_id = ?", (run_id,)).fetchone()[0]
    return int(rows)


def catch_up(layout: RunsLayout) -> int:
    """Index the runs noted since the last search; how many were indexed."""
    indexed = 0
    for task_id, run_id in take_pending(layout):
        with contextlib.suppress(OrchestratorError, OSError, sqlite3.Error):
            run = open_ref(layout, locate_run(layout, run_id, task_id))
            metadata, index = read_json(run.paths.metadata), read_json(run.paths.index)
            if not isinstance(metadata, dict) or not isinstance(index, dict):
                continue  # pruned or never collected: nothing to index
            instances = [i for i in metadata.get("instances") or [] if isinstance(i, dict)]
            files = [KeptFile.from_dict(r) for r in index.get("files") or [] if isinstance(r, dict)]
            index_run(run, instances, files)
            indexed += 1
    return indexed


def _delete_run(db: sqlite3.Connection, run_id: str) -> None:
    db.execute(
        "INSERT INTO blocks_fts (blocks_fts, rowid, text) "
        "SELECT 'delete', id, text FROM blocks WHERE run_id = ?",
        (run_id,),
    )
    db.execute("DELETE FROM blocks WHERE run_id = ?", (run_id,))


def forget_run(layout: RunsLayout, run_id: str) -> None:
    """Drop a run's rows (its kept files were pruned)."""
    if layout.search_index().exists():
        with connect(layout) as db, db:
            _delete_run(db, run_id)


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
    workspaces: dict[str, str] = {}
    for entry in files:
        if entry.kind is not FileKind.FILE:
            continue
        if entry.instance not in workspaces:
            workspaces[entry.instance] = str(run.paths.instance_by_id(entry.instance).workspace)
        kept = Path(workspaces[entry.instance], entry.path)
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


def _blocks(handle: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Blocks of ``BLOCK_LINES`` lines with their first line number, streamed.

    One row per block, not per line, keeps the index small and fast to write; the
    line of a hit is found within its block when searching.
    """
    chunk = handle.read(SNIFF_BYTES)
    if b"\0" in chunk:
        return
    budget = MAX_FILE_BYTES - len(chunk)
    pending = b""
    lines: list[str] = []
    first = 1
    while chunk:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            lines.append(raw[:MAX_LINE_BYTES].decode("utf-8", "replace"))
            if len(lines) == BLOCK_LINES:
                yield first, "\n".join(lines)
                first += len(lines)
                lines = []
        # The rest of an over-long line is not indexed: memory stays bounded.
        pending = pending[:MAX_LINE_BYTES]
        if budget <= 0:
            break
        chunk = handle.read(min(READ_BYTES, budget))
        budget -= len(chunk)
    if pending.strip():
        lines.append(pending.decode("utf-8", "replace"))
    if any(line.strip() for line in lines):
        yield first, "\n".join(lines)


_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def _terms(query: str) -> list[str]:
    """The words of a query (its FTS5 operators and syntax left out), lowercased."""
    return [w.lower() for w in re.findall(r"\w+", query) if w not in _OPERATORS]


def _hits_in_block(row: tuple[Any, ...], terms: list[str]) -> list[dict[str, Any]]:
    run_id, task_id, instance, path, first, text = row
    hits = []
    for offset, line in enumerate(text.split("\n")):
        lowered = line.lower()
        found = [t for t in terms if t.rstrip("*") in lowered] if terms else []
        if found:
            hits.append(
                {
                    "run_id": run_id,
                    "task_id": task_id,
                    "instance": instance,
                    "path": path,
                    "line": int(first) + offset,
                    "snippet": _snippet(line, found[0].rstrip("*")),
                }
            )
    return hits


def _snippet(line: str, term: str, width: int = SNIPPET_CHARS) -> str:
    at = line.lower().find(term)
    start = max(0, at - width // 2)
    end = min(len(line), at + len(term) + width // 2)
    marked = line[start:at] + "[" + line[at : at + len(term)] + "]" + line[at + len(term) : end]
    return ("…" if start else "") + marked.strip() + ("…" if end < len(line) else "")


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
    catch_up(layout)
    if not layout.search_index().exists():
        return []
    sql = (
        "SELECT b.run_id, b.task_id, b.instance, b.path, b.line, b.text FROM blocks_fts "
        "JOIN blocks AS b ON b.id = blocks_fts.rowid WHERE blocks_fts MATCH ?"
    )
    params: list[Any] = []
    if task is not None:
        sql += " AND b.task_id = ?"
        params.append(task)
    if run_id is not None:
        sql += " AND b.run_id = ?"
        params.append(run_id)
    sql += " ORDER BY rank"
    terms = _terms(query)
    hits: list[dict[str, Any]] = []
    with connect(layout) as db:
        try:
            rows = db.execute(sql, [query, *params])
            first = next(rows, None)
        except sqlite3.OperationalError:
            # Not FTS5 syntax (a stray quote, a colon): search for its words, all of them.
            if not terms:
                raise InvalidInput(f"search query {query!r} has no words to find") from None
            rows = db.execute(sql, [" ".join(f'"{t}"' for t in terms), *params])
            first = next(rows, None)
        for row in [first] if first is not None else []:
            hits += _hits_in_block(row, terms)
        for row in rows:
            if len(hits) >= limit:
                break
            hits += _hits_in_block(row, terms)
    return hits[:limit]


def index_path(layout: RunsLayout) -> Path:
    """Where the index lives (for documentation and tests)."""
    return layout.search_index()
