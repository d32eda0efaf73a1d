"""Atomic writes and locked appends: the only ways run evidence reaches disk."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from filelock import FileLock, Timeout

from codex_orchestrator.errors import LockTimeout, RunsPathError, StoreError

APPEND_LOCK_TIMEOUT_SECONDS = 30.0


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same dir, fsync, replace.

    ``durable=False`` skips the fsync for advisory files that only matter while their
    writer lives: readers still see the old or the new content, never a mix.
    """
    fd, temp_name = _create_temp(path, explicit_mode=mode is not None)
    _write_and_replace(fd, temp_name, path, data, mode=mode, durable=durable)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fill_and_replace(staged: Path, path: Path, data: bytes) -> None:
    """``atomic_write`` (not synced) through ``staged``, an empty file made ahead
    beside ``path``: no file to create now."""
    # No O_TRUNC (the file is empty): on ext4 a truncated file is flushed at close.
    fd = os.open(staged, os.O_WRONLY | os.O_CLOEXEC)
    _write_and_replace(fd, str(staged), path, data, mode=None, durable=False)


def _write_and_replace(
    fd: int, temp_name: str, path: Path, data: bytes, *, mode: int | None, durable: bool
) -> None:
    """Write ``data`` into the open temp file, then rename it over ``path``; the temp
    file is removed if anything fails."""
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _create_temp(path: Path, *, explicit_mode: bool) -> tuple[int, str]:
    """A new temp file beside ``path``.

    Not ``mkstemp``: its 0600 would make every manifest private. Run evidence is
    published, so it gets 0666 less the umask like any file the user creates. A file
    given an explicit mode (the 0600 resume token) starts private and is chmod-ed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _ in range(100):
        name = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, flags, 0o600 if explicit_mode else 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(path.parent))


def lock_path_for(path: Path) -> Path:
    """The sibling lock file guarding ``path``."""
    return path.with_name(path.name + ".lock")


def append_line_locked(
    path: Path, line: bytes, *, timeout: float = APPEND_LOCK_TIMEOUT_SECONDS
) -> None:
    """Append one newline-terminated line to a shared JSONL file under a file lock.

    A file whose last line lost its newline (a crash mid-append) is repaired first,
    so the new line never fuses with the broken one.
    """
    if not line.endswith(b"\n"):
        line += b"\n"
    try:
        with FileLock(lock_path_for(path), timeout=timeout):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
    except Timeout as exc:
        raise LockTimeout(f"{path}: another process holds {lock_path_for(path).name}") from exc
    except OSError as exc:
        raise StoreError(f"cannot append to {path}: {exc.strerror or exc}") from exc


# A path in the way or out of reach is the user's to fix (exit 2); a full or read-only
# disk is a store failure (exit 3).
PATH_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST, errno.EISDIR})


def ensure_dir(path: Path) -> None:
    """Create ``path`` and its parents: RunsPathError (exit 2) when a path is in the way
    or out of reach, StoreError otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"cannot create directory {path}: {exc.strerror or exc}"
        if exc.errno in PATH_ERRNOS:
            raise RunsPathError(message) from exc
        raise StoreError(message) from exc
