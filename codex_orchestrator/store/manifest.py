"""Reading and writing ``manifest.json``; coalesced writes while output streams."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout

from codex_orchestrator.errors import LockTimeout, ManifestUnreadable, RunNotFound, StoreError
from codex_orchestrator.model import CommandRecord, ResumeEvent, RunManifest, now_iso
from codex_orchestrator.store.fsutil import atomic_write, lock_path_for

COALESCE_SECONDS = 1.0
WRITE_LOCK_TIMEOUT_SECONDS = 30.0


def write_lock(path: Path) -> FileLock:
    """The short lock every writer of ``manifest.json`` holds around read-modify-write."""
    return FileLock(lock_path_for(path), timeout=WRITE_LOCK_TIMEOUT_SECONDS)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def record_resume_event(path: Path, event: ResumeEvent) -> None:
    """Append a resume event to a manifest another process may own (under the write lock).

    Only ``resume_events`` and ``updated_at`` change: every other field, ours or a
    foreign tool's, is written back exactly as read. The owning runner notices the
    replaced file on its next write and keeps the event.
    """
    try:
        with write_lock(path):
            data = read_manifest_dict(path)
            _check(path, data)
            data["resume_events"] = [*(data.get("resume_events") or []), event.to_dict()]
            data["updated_at"] = now_iso()
            try:
                atomic_write(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
            except OSError as exc:
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except Timeout as exc:
        raise LockTimeout(f"{path}: another process holds its write lock") from exc


def read_manifest_dict(path: Path) -> dict[str, Any]:
    """The manifest at ``path`` as a dict; RunNotFound / ManifestUnreadable otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise RunNotFound(f"no manifest at {path}") from exc
    except OSError as exc:
        raise ManifestUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ManifestUnreadable(f"{path} is not valid JSON ({exc.args[0]})") from exc
    if not isinstance(data, dict):
        raise ManifestUnreadable(f"{path} is not a JSON object")
    return data


def read_manifest(path: Path) -> RunManifest:
    """The manifest at ``path``, to be written back: a document that is not a valid
    manifest raises ManifestUnreadable naming the file and the bad field."""
    from codex_orchestrator.store.journal import merge_journal

    data = read_manifest_dict(path)
    _check(path, data)
    return RunManifest.from_dict(merge_journal(data, path.parent))


def _check(path: Path, data: dict[str, Any]) -> None:
    from codex_orchestrator.model.check import manifest_problem

    problem = manifest_problem(data)
    if problem is not None:
        raise ManifestUnreadable(f"{path} is not a valid manifest: {problem}")


def encode_manifest(
    manifest: RunManifest, command_dicts: list[dict[str, Any]] | None = None
) -> bytes:
    """The bytes we persist for ``manifest``."""
    return orjson.dumps(manifest.to_dict(command_dicts), option=orjson.OPT_INDENT_2) + b"\n"


def write_manifest(
    path: Path, manifest: RunManifest, command_dicts: list[dict[str, Any]] | None = None
) -> None:
    """Persist ``manifest`` atomically; StoreError when the disk refuses."""
    try:
        atomic_write(path, encode_manifest(manifest, command_dicts))
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc


class ManifestWriter:
    """Holds a run's current manifest and writes it at most about once a second.

    ``update`` replaces the in-memory state; ``force=True`` writes at once (stage
    boundaries, the end of the run). ``flush`` writes pending state. The last good
    manifest stays on disk when a write fails: the temp file is discarded.
    """

    def __init__(self, path: Path, manifest: RunManifest, *, taken_over: bool = False) -> None:
        # taken_over: the manifest was read earlier (resume), so the first write must
        # keep resume events other processes recorded since that read.
        self.path = path
        self._manifest = manifest
        self._dirty = True
        self._last_write = 0.0
        self._lock = write_lock(path)
        # Where the journal (runner.ndjson) ends: recorded with each write.
        self.journal: Callable[[], int] | None = None
        self._written: tuple[int, int] | None = None if taken_over else _identity(path)
        # Records are immutable: a record seen before serialises as before. This keeps
        # a write O(changed records) in Python, not O(all records).
        self._command_cache: dict[int, tuple[CommandRecord, dict[str, Any]]] = {}

    @property
    def manifest(self) -> RunManifest:
        """The current in-memory state."""
        return self._manifest

    def update(self, manifest: RunManifest, *, force: bool = False, stamped: bool = False) -> None:
        """Replace the state, stamping ``updated_at`` (unless ``stamped``: the caller
        did); write now if forced or due."""
        self._manifest = manifest if stamped else manifest.replace(updated_at=now_iso())
        self._dirty = True
        if force or time.monotonic() - self._last_write >= COALESCE_SECONDS:
            self.flush()

    def flush_due(self) -> None:
        """Write pending state once the coalescing interval has passed."""
        if self._dirty and time.monotonic() - self._last_write >= COALESCE_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the state if it changed since the last write."""
        if not self._dirty:
            return
        try:
            with self._lock:
                if _identity(self.path) != self._written:
                    self._merge_foreign_events()
                if self.journal is not None:
                    self._manifest = self._manifest.replace(journal_offset=self.journal())
                write_manifest(self.path, self._manifest, self._command_dicts())
                self._written = _identity(self.path)
        except Timeout as exc:
            raise LockTimeout(f"{self.path}: another process holds its write lock") from exc
        self._dirty = False
        self._last_write = time.monotonic()

    def _command_dicts(self) -> list[dict[str, Any]]:
        dicts = []
        cache = self._command_cache
        for record in self._manifest.commands:
            cached = cache.get(record.index)
            if cached is None or cached[0] is not record:
                cached = (record, record.to_dict())
                cache[record.index] = cached
            dicts.append(cached[1])
        return dicts

    def _merge_foreign_events(self) -> None:
        """Keep resume events another process recorded since our last write."""
        try:
            on_disk = read_manifest(self.path)
        except (RunNotFound, ManifestUnreadable):
            return
        known = set(self._manifest.resume_events)
        extra = [event for event in on_disk.resume_events if event not in known]
        if extra:
            events = sorted((*self._manifest.resume_events, *extra), key=lambda e: e.timestamp)
            self._manifest = self._manifest.replace(resume_events=tuple(events))


def record_extra_fields(path: Path, fields: dict[str, Any]) -> None:
    """Set fields of a manifest no runner owns now (under the write lock), e.g. by collect."""
    try:
        with write_lock(path):
            manifest = read_manifest(path)
            write_manifest(path, manifest.replace(extra={**manifest.extra, **fields}))
    except Timeout as exc:
        raise LockTimeout(f"{path}: another process holds its write lock") from exc
