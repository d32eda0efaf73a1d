"""Small evidence files of a run: the heartbeat and the error files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.errors import StoreError
from codex_orchestrator.model import ErrorReason, now_iso
from codex_orchestrator.store.fsutil import atomic_write, ensure_dir


def write_heartbeat(path: Path, timestamp: str) -> None:
    """``.heartbeat``: the ISO timestamp and a newline."""
    try:
        atomic_write(path, timestamp.encode() + b"\n")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_lock_owner(path: Path, pid: int, create_time: float) -> None:
    """Record which process took a run's lock (read by refused resumes to name it)."""
    try:
        # Advisory and only meaningful while the owner lives: no fsync, which can
        # stall for seconds on a busy disk while refused resumes wait to read it.
        atomic_write(path, f"{pid} {create_time!r}\n".encode(), durable=False)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_lock_owner(path: Path) -> tuple[int, float] | None:
    """The pid and create time last recorded as the lock's owner, if readable."""
    try:
        pid_text, time_text = path.read_text(encoding="ascii").split()
        return int(pid_text), float(time_text)
    except (OSError, ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReport:
    """What ``errors/NN-slug.json`` says about one failed command."""

    run_id: str
    task_id: str
    command_index: int
    command_id: str
    command: str | None
    reason: ErrorReason
    exit_code: int | None
    signal: str | None
    duration_ms: int | None
    stdout_tail: str
    stderr_tail: str
    stdout_truncated: bool
    stderr_truncated: bool
    message: str | None = None

    def to_dict(self) -> dict[str, object]:
        """As persisted."""
        details: dict[str, object] = {
            "exit_code": self.exit_code,
            "signal": self.signal,
            "duration_ms": self.duration_ms,
            "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail,
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
        }
        if self.message is not None:
            details["message"] = self.message
        return {
            "run_id": self.run_id,
            "task_id": self.task_id,
            "command_index": self.command_index,
            "command_id": self.command_id,
            "command": self.command,
            "reason": str(self.reason),
            "details": details,
            "created_at": now_iso(),
        }


def write_error_file(path: Path, report: ErrorReport) -> None:
    """Write one error file atomically."""
    try:
        ensure_dir(path.parent)
        atomic_write(path, orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc


# Error files hold two 8 KiB tails plus a few fields; anything far bigger is not ours.
ERROR_FILE_READ_LIMIT = 1024 * 1024


def read_error_file(path: Path) -> dict[str, Any] | None:
    """An error file's content; None when missing, oversized, unreadable or not an object."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(ERROR_FILE_READ_LIMIT + 1)
    except OSError:
        return None
    if len(raw) > ERROR_FILE_READ_LIMIT:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
