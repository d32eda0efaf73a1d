"""Copying, comparing and removing run directories without losing a byte.

Copies keep every file's bytes, mode and times; symlinks are copied as links, re-pointed
when the run moves to a place where their old relative target would no longer resolve.
Everything copied is fsynced before the caller renames it into place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_CHUNK = 1024 * 1024


class TreeError(Exception):
    """A run directory holds something we cannot copy faithfully."""


def retarget(link: str, old_dir: Path, new_dir: Path, rel_parent: Path) -> str:
    """The target a symlink needs at ``new_dir/rel_parent`` to reach what it reached before.

    Targets inside the run stay as they are (relative) or become relative (absolute);
    relative targets outside the run are recomputed from the new place.
    """
    old_parent = old_dir / rel_parent
    target = Path(link)
    absolute = Path(os.path.normpath(target if target.is_absolute() else old_parent / target))
    if absolute.is_relative_to(old_dir):
        if not target.is_absolute():
            return link
        inside = new_dir / absolute.relative_to(old_dir)
        return os.path.relpath(inside, new_dir / rel_parent)
    if target.is_absolute():
        return link
    return os.path.relpath(absolute, new_dir / rel_parent)


def walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry below ``root`` (not root itself), parents first, with its lstat."""
    pending = [Path()]
    while pending:
        relative_dir = pending.pop()
        with os.scandir(root / relative_dir) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            relative = relative_dir / entry.name
            info = entry.stat(follow_symlinks=False)
            yield relative, info
            if stat.S_ISDIR(info.st_mode):
                pending.append(relative)


def copy_tree(source: Path, staging: Path, final: Path) -> int:
    """Copy ``source`` into the new directory ``staging`` (to be renamed to ``final``).

    Returns how many symlinks were re-pointed. Directory modes are applied last, so a
    read-only source directory does not stop the copy. Everything is fsynced.
    """
    staging.mkdir(mode=0o700)
    repointed = 0
    dir_modes: list[tuple[Path, os.stat_result]] = [(staging, source.stat())]
    for relative, info in walk(source):
        origin, copy = source / relative, staging / relative
        if stat.S_ISDIR(info.st_mode):
            copy.mkdir(mode=0o700)
            dir_modes.append((copy, info))
        elif stat.S_ISLNK(info.st_mode):
            link = str(origin.readlink())
            new_link = retarget(link, source, final, relative.parent)
            repointed += new_link != link
            copy.symlink_to(new_link)
        elif stat.S_ISREG(info.st_mode):
            _copy_file(origin, copy)
        else:
            raise TreeError(f"{origin} is not a file, directory or symlink")
    for directory, info in reversed(dir_modes):
        fsync_dir(directory)
        directory.chmod(stat.S_IMODE(info.st_mode) | stat.S_IRWXU)
        os.utime(directory, ns=(info.st_atime_ns, info.st_mtime_ns))
    return repointed


def _copy_file(origin: Path, copy: Path) -> None:
    with origin.open("rb") as reader, copy.open("xb") as writer:
        shutil.copyfileobj(reader, writer, _CHUNK)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(origin, copy, follow_symlinks=False)


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries (creations, renames) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def contained_in(
    source: Path, copy: Path, final: Path, renamed: dict[Path, Path] | None = None
) -> str | None:
    """None when every entry of ``source`` is in ``copy`` unchanged, else the first difference.

    ``renamed`` maps a source path to where its bytes live in the copy (a rewritten
    manifest keeps its original beside it). ``final`` is where symlinks were re-pointed for.
    """
    renamed = renamed or {}
    for relative, info in walk(source):
        origin, twin = source / relative, copy / renamed.get(relative, relative)
        try:
            twin_info = twin.lstat()
        except FileNotFoundError:
            return f"{relative} is missing from the copy"
        if stat.S_IFMT(info.st_mode) != stat.S_IFMT(twin_info.st_mode):
            return f"{relative} is of another kind in the copy"
        if stat.S_ISLNK(info.st_mode):
            link = str(origin.readlink())
            expected = retarget(link, source, final, relative.parent)
            if str(twin.readlink()) not in (expected, link):
                return f"{relative} points elsewhere in the copy"
        elif stat.S_ISREG(info.st_mode) and not same_bytes(origin, twin):
            return f"{relative} differs in the copy"
    return None


def same_bytes(left: Path, right: Path) -> bool:
    """Whether two files hold the same bytes."""
    if left.stat().st_size != right.stat().st_size:
        return False
    with left.open("rb") as one, right.open("rb") as other:
        while True:
            a, b = one.read(_CHUNK), other.read(_CHUNK)
            if a != b:
                return False
            if not a:
                return True


def remove_tree(path: Path) -> None:
    """Remove a directory tree, including read-only directories inside it."""
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_make_writable_and_retry)
    else:
        shutil.rmtree(path, onerror=_on_error)
    fsync_dir(path.parent)


def _on_error(function: Callable[..., object], failed: str, info: tuple[Any, ...]) -> None:
    _make_writable_and_retry(function, failed, info[1])


def _make_writable_and_retry(
    function: Callable[..., object], failed: str, error: BaseException
) -> None:
    """A read-only directory refuses to lose its entries: open it to its owner, retry once."""
    if not isinstance(error, PermissionError):
        raise error
    path = Path(failed)
    with contextlib.suppress(OSError):
        for directory in (path.parent, path):
            if directory.is_dir() and not directory.is_symlink():
                directory.chmod(stat.S_IMODE(directory.lstat().st_mode) | stat.S_IRWXU)
    function(failed)
