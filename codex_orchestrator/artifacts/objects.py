"""The content-addressed object store: identical kept files are stored once.

An object is ``objects/<sha[:2]>/<sha256>-<mode>``, read-only, and every kept copy of
it is a hard link to it, so two runs keeping the same 20 MB file use 20 MB. An object
whose link count has fallen to one is referenced by nothing and ``collect_garbage``
removes it. Where hard links are impossible (another filesystem, a link limit) the
kept file stays a plain read-only copy. Publishing uses ``link()``, which fails
rather than overwrite, so concurrent runs keeping the same content need no lock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
READ_ONLY_MASK = 0o555  # kept files lose write, setuid and setgid bits; the index keeps the mode
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP)


@dataclass(frozen=True, slots=True)
class Stored:
    """A kept file: its digest, size, original permissions and whether it is deduped."""

    sha256: str
    size: int
    permissions: int
    linked: bool


class ObjectStore:
    """The objects under one artifacts root."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._root = str(directory)
        self._buckets: set[str] = set()

    def object_path(self, sha256: str, permissions: int) -> Path:
        """Where the object of this content and (read-only) mode lives."""
        return Path(self._object_name(sha256, permissions))

    def _object_name(self, sha256: str, permissions: int) -> str:
        # Plain strings: pathlib costs more than the link itself for small files.
        mode = permissions & READ_ONLY_MASK
        return f"{self._root}/{sha256[:2]}/{sha256}-{mode:04o}"

    def adopt(self, path: Path) -> Stored:
        """Turn the regular file at ``path`` into a read-only link to its object.

        Raises OSError (FileNotFoundError when it vanished, PermissionError when it
        cannot be read); a FIFO, socket or device raises ValueError.
        """
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"not a regular file ({_kind(info.st_mode)})")
            digest, size = _hash_fd(fd)
        finally:
            os.close(fd)
        permissions = stat.S_IMODE(info.st_mode)
        os.chmod(path, permissions & READ_ONLY_MASK)
        linked = self._publish(path, self._object_name(digest, permissions))
        return Stored(digest, size, permissions, linked)

    def store_copy(self, source: Path, destination: Path) -> Stored:
        """Copy the regular file ``source`` (outside the store) to ``destination``, deduped."""
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"not a regular file ({_kind(info.st_mode)})")
            permissions = stat.S_IMODE(info.st_mode)
            destination.parent.mkdir(parents=True, exist_ok=True)
            temp = destination.with_name(f".{destination.name}.keep")
            hasher = hashlib.sha256()
            size = 0
            with open(temp, "wb") as out:
                while chunk := os.read(fd, CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        finally:
            os.close(fd)
        os.chmod(temp, permissions & READ_ONLY_MASK)
        os.replace(temp, destination)
        digest = hasher.hexdigest()
        linked = self._publish(destination, self._object_name(digest, permissions))
        return Stored(digest, size, permissions, linked)

    def _publish(self, path: Path, target: str) -> bool:
        """Make ``path`` and the object ``target`` one inode; False when links fail."""
        for _ in range(5):
            try:
                bucket = os.path.dirname(target)
                if bucket not in self._buckets:
                    os.makedirs(bucket, exist_ok=True)
                    self._buckets.add(bucket)
                os.link(path, target)
                return True
            except FileExistsError:
                pass
            except OSError as exc:
                if exc.errno in _NO_LINK:
                    return False
                raise
            # The object exists: point ``path`` at it instead (its copy is then freed).
            temp = path.with_name(f".{path.name}.link")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            try:
                os.link(target, temp)
            except FileNotFoundError:
                continue  # removed by garbage collection meanwhile: publish ours again
            except OSError as exc:
                if exc.errno in _NO_LINK:
                    return False
                raise
            os.replace(temp, path)
            return True
        return False

    def collect_garbage(self, *, dry_run: bool = False) -> tuple[int, int]:
        """Remove objects nothing links to any more; (objects, bytes) removed."""
        removed = freed = 0
        if not self.directory.is_dir():
            return 0, 0
        for bucket in sorted(self.directory.iterdir()):
            if not bucket.is_dir():
                continue
            for entry in os.scandir(bucket):
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                    continue
                if not dry_run:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                removed += 1
                freed += info.st_size
        return removed, freed

    def usage(self) -> tuple[int, int]:
        """(objects, bytes) stored."""
        count = size = 0
        if not self.directory.is_dir():
            return 0, 0
        for bucket in self.directory.iterdir():
            if bucket.is_dir():
                for entry in os.scandir(bucket):
                    count += 1
                    size += entry.stat(follow_symlinks=False).st_size
        return count, size


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _hash_fd(fd)[0]
    finally:
        os.close(fd)


def _hash_fd(fd: int) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    while chunk := os.read(fd, CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def describe_special(mode: int) -> str | None:
    """A FIFO, socket or device's description; None for files, links and directories."""
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode):
        return None
    return _kind(mode)
