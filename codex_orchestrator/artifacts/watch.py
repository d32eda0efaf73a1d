"""Watching a run's live workspaces: one event per change, bursts coalesced.

Changes come from watchfiles (inotify and its equivalents) in small batches. Its own
debounce does not hold a burst of rewrites of one file together (a batch closes as
soon as no *new* path changed for 50 ms), so the paths of consecutive batches are
gathered here until nothing changed for 100 ms, or for at most 500 ms, and each path
is then looked at once: a file rewritten a hundred times in a burst is one event.
The watcher keeps the size and mtime of every file it knows, so an event says what
really happened since the last one (added, modified, deleted), and a final scan after
the run ends reports whatever the last batch had not.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.model import now_iso

COALESCE_MS = 500
STEP_MS = 50
QUIET_MS = 100
IDLE_CHECK_MS = 500
WORKSPACE = "workspace"
CHILDREN = "instances"

_SEALING_TEMP = re.compile(r"^\..+\.age\.[0-9a-f]{12}\.sealing$")
FileKey = tuple[str, str]  # (instance id, path inside its workspace)
FileState = tuple[int, int]  # (size, mtime_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEvent:
    """One change to a live file."""

    type: str  # added | modified | deleted
    instance: str
    path: str
    size: int | None
    timestamp: str

    def to_dict(self) -> dict[str, Any]:
        """The NDJSON line of ``artifacts watch --format json``."""
        return {
            "type": self.type,
            "instance": self.instance,
            "path": self.path,
            "size": self.size,
            "timestamp": self.timestamp,
        }

    def to_text(self) -> str:
        """One line for people."""
        size = "" if self.size is None else f" ({self.size} bytes)"
        return f"{self.timestamp} {self.type:<8} {self.instance}/{self.path}{size}"


def locate(instances_dir: Path, path: Path) -> FileKey | None:
    """``(instance, path)`` for a file below ``instances/<NN-slug>/workspace/``, else None.

    A subpipeline's stages nest: ``instances/02-sub/instances/01-lint/workspace/x`` is
    file ``x`` of instance ``02-sub/01-lint``.
    """
    try:
        parts = path.relative_to(instances_dir).parts
    except ValueError:
        return None
    if not parts:
        return None
    instance = [parts[0]]
    index = 1
    while index + 1 < len(parts):
        if parts[index] == WORKSPACE:
            return "/".join(instance), "/".join(parts[index + 1 :])
        if parts[index] != CHILDREN:
            return None
        instance.append(parts[index + 1])
        index += 2
    return None


def path_of(instances_dir: Path, key: FileKey) -> Path:
    """The file ``locate`` gives ``key`` for."""
    instance, path = key
    return instances_dir.joinpath(
        *f"/{CHILDREN}/".join(instance.split("/")).split("/"), WORKSPACE, *path.split("/")
    )


def _is_below(path: Path, directory: Path) -> bool:
    return path != directory and path.is_relative_to(directory)


def scan(instances_dir: Path, below: Path | None = None) -> dict[FileKey, FileState]:
    """Every regular file in the live workspaces (under ``below`` when given)."""
    found: dict[FileKey, FileState] = {}
    for folder, dirs, files in os.walk(below or instances_dir):
        dirs.sort()
        for name in files:
            full = Path(folder, name)
            key = locate(instances_dir, full)
            state = _state(full) if key else None
            if key and state:
                found[key] = state
    return found


def _state(path: Path) -> FileState | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    return info.st_size, info.st_mtime_ns


class ChangeTracker:
    """What is known of the live files; turns looks at paths into change events."""

    def __init__(self, instances_dir: Path) -> None:
        self.instances_dir = instances_dir
        self.known = scan(instances_dir) if instances_dir.is_dir() else {}

    def look_at(self, paths: Iterable[Path]) -> list[ChangeEvent]:
        """Events for the given paths; a directory counts with every file below it."""
        seen: dict[FileKey, FileState | None] = {}
        for path in paths:
            is_dir = path.is_dir() and not path.is_symlink()
            if is_dir or not os.path.lexists(path):  # a directory, or one that went away
                for known in self.known:
                    if _is_below(path_of(self.instances_dir, known), path):
                        seen[known] = _state(path_of(self.instances_dir, known))
            if is_dir:
                seen.update(scan(self.instances_dir, path))
                continue
            key = locate(self.instances_dir, path)
            if key is not None:
                seen[key] = _state(path)
        return self._diff(seen)

    def rescan(self) -> list[ChangeEvent]:
        """Events for every difference between what is known and what is on disk now."""
        now: dict[FileKey, FileState | None] = dict.fromkeys(self.known)
        if self.instances_dir.is_dir():
            now.update(scan(self.instances_dir))
        return self._diff(now)

    def _sealing(self, key: FileKey, state: FileState | None) -> bool:
        """Whether a change is the run's end sealing a kept file, not the stage's doing."""
        instance, path = key
        name = path.rsplit("/", 1)[-1]
        if _SEALING_TEMP.match(name):
            return True
        if state is None:  # x removed once x.age is in place
            return path_of(self.instances_dir, (instance, path + ".age")).is_file()
        return path.endswith(".age") and (instance, path[:-4]) in self.known

    def _diff(self, seen: dict[FileKey, FileState | None]) -> list[ChangeEvent]:
        events: list[ChangeEvent] = []
        stamp = now_iso()
        for key in sorted(seen):
            state, before = seen[key], self.known.get(key)
            if state == before:
                continue
            if self._sealing(key, state):
                continue  # ``known`` keeps the plaintext's entry: its .age is no news either
            if state is None:
                del self.known[key]
                kind, size = "deleted", None
            else:
                self.known[key] = state
                kind, size = ("added" if before is None else "modified"), state[0]
            events.append(
                ChangeEvent(type=kind, instance=key[0], path=key[1], size=size, timestamp=stamp)
            )
        return events


def watch_changes(
    instances_dir: Path,
    run_ended: Callable[[], bool],
    *,
    poll_seconds: float = IDLE_CHECK_MS / 1000,
) -> Iterator[ChangeEvent]:
    """Yield change events until the run ends, then the changes it left unreported."""
    import watchfiles

    tracker = ChangeTracker(instances_dir)
    while not instances_dir.is_dir():  # no stage has started yet
        if run_ended():
            return
        time.sleep(poll_seconds)
    yield from tracker.rescan()  # files written before the watch began
    batches = watchfiles.watch(
        instances_dir,
        watch_filter=None,
        debounce=COALESCE_MS,
        step=STEP_MS,
        rust_timeout=QUIET_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    )
    pending: set[Path] = set()
    first_pending = last_check = time.monotonic()
    for batch in batches:
        now = time.monotonic()
        if batch and not pending:
            first_pending = now
        pending.update(Path(path) for _, path in batch)
        if pending and (not batch or now - first_pending >= COALESCE_MS / 1000):
            yield from tracker.look_at(pending)
            pending.clear()
        if not pending and now - last_check >= poll_seconds:
            last_check = now
            if run_ended():
                break
    yield from tracker.rescan()
