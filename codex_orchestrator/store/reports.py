"""Writing a run's reports beside its manifest."""

from __future__ import annotations

from pathlib import Path

from codex_orchestrator.errors import StoreError
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import report_beside


def write_report(manifest_path: Path, report_format: str, data: bytes) -> Path:
    """Write one report of a run atomically; StoreError when the disk refuses."""
    path = report_beside(manifest_path, report_format)
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
