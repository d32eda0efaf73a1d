"""The shared-filesystem probe: a file in the run directory that workers must read."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

from codex_orchestrator.errors import StoreError
from codex_orchestrator.store.fsutil import atomic_write


@contextlib.contextmanager
def shared_probe(path: Path) -> Iterator[str]:
    """Write a probe holding fresh random text, yield the text, remove the probe."""
    text = secrets.token_hex(16)
    try:
        atomic_write(path, text.encode("ascii"))
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        yield text
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
