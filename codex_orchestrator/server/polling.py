"""What a client polling ``GET /runs/{run_id}`` costs: a cached document, served early.

Dashboards poll a live run's status many times a second between them. The document is
built (and validated) once per change of the run's manifest or of its journal
(``runner.ndjson``: the document includes its events newer than the manifest), and at
least once a second (so that the runner's liveness is judged again); in between, the
bytes are reused. A fresh cached document is answered by :class:`CachedStatusMiddleware` before
the request reaches routing, which is most of what a request costs. Everything else —
a first request, a stale entry, an error — goes to the route as usual, and the
middlewares that guard the API (token, Host header) sit outside this one.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

# Rebuilt at least this often: the runner's liveness and the heartbeat's age move on.
STATUS_REUSE_SECONDS = 1.0
# The manifest and the journal are looked at (a stat each) at most this often per run
# while its document is reused; the journal grows at every stage boundary.
RECHECK_SECONDS = 0.1
MAX_ENTRIES = 1024
_STATUS_PATH = re.compile(r"/runs/([^/]+)")


@dataclass(slots=True)
class _Entry:
    files: tuple[Path, ...]
    key: tuple[tuple[int, int, int], ...]
    built_at: float
    checked_at: float
    body: bytes


@dataclass(slots=True)
class StatusCache:
    """The last status document of each polled run, while its manifest stands still."""

    entries: dict[str, _Entry] = field(default_factory=dict)

    def get(self, run_id: str) -> bytes | None:
        """The cached document of ``run_id`` when it is still fresh, else None."""
        entry = self.entries.get(run_id)
        if entry is None:
            return None
        now = time.monotonic()
        if now - entry.built_at >= STATUS_REUSE_SECONDS:
            return None
        if now - entry.checked_at >= RECHECK_SECONDS:
            if files_key(entry.files) != entry.key:
                return None
            entry.checked_at = now
        return entry.body

    def put(
        self,
        run_id: str,
        files: tuple[Path, ...],
        key: tuple[tuple[int, int, int], ...],
        body: bytes,
    ) -> None:
        """Remember ``body`` as built from ``files`` when they had ``key``."""
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        now = time.monotonic()
        self.entries[run_id] = _Entry(files=files, key=key, built_at=now, checked_at=now, body=body)


def files_key(paths: tuple[Path, ...]) -> tuple[tuple[int, int, int], ...]:
    """What changes when a file is rewritten (the manifest: a new inode) or grows (the
    journal)."""
    return tuple(_file_key(path) for path in paths)


def _file_key(path: Path) -> tuple[int, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1, -1)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


class CachedStatusMiddleware:
    """Answer ``GET /runs/{run_id}`` from a fresh cache entry; pass everything else on."""

    def __init__(self, app: ASGIApp, cache: StatusCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the cached bytes exactly as the route would, or call the app."""
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _STATUS_PATH.fullmatch(scope["path"])
            body = self.cache.get(match.group(1)) if match else None
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
