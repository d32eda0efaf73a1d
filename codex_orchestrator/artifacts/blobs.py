"""Files to commit: their digests, modes and git blobs, written in one ``hash-object`` call."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.artifacts.gitrepo import GitFailed, GitRepo

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitFile:
    """One file to commit: ``path`` under the store directory, read from ``source``."""

    path: str
    source: Path
    shown: str  # how findings and errors name it


@dataclass(frozen=True, slots=True, kw_only=True)
class Blob:
    """A file as committed: tree path, git mode and object, and its sha256 and size."""

    path: str
    mode: str
    oid: str
    sha256: str
    size: int

    def entry(self) -> dict[str, object]:
        """``files[]`` entry of metadata.json."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True, slots=True)
class _Prepared:
    path: str
    mode: str
    source: Path  # regular file, or a file holding a link's target
    sha256: str
    size: int
    git_oid: str  # what git must answer, so a file changed meanwhile is caught


def write_blobs(
    repo: GitRepo, files: Sequence[CommitFile], scratch: Path, extra: Sequence[tuple[str, bytes]]
) -> list[Blob]:
    """Write every file (and the ``extra`` documents) as blobs; their tree entries."""
    prepared = [_prepare(item, scratch, index) for index, item in enumerate(files)]
    for index, (path, data) in enumerate(extra):
        holder = scratch / f"extra-{index}"
        holder.write_bytes(data)
        prepared.append(_describe(path, "100644", holder, data))
    if not prepared:
        return []
    paths = b"".join(os.fsencode(item.source) + b"\n" for item in prepared)
    oids = repo.out("hash-object", "-w", "--no-filters", "--stdin-paths", stdin=paths).split()
    if len(oids) != len(prepared):
        raise GitFailed("git hash-object returned an unexpected number of objects")
    blobs = []
    for item, oid in zip(prepared, oids, strict=True):
        if len(oid) == len(item.git_oid) and oid != item.git_oid:
            raise GitFailed(f"{item.path}: the file changed while it was being committed")
        blobs.append(
            Blob(path=item.path, mode=item.mode, oid=oid, sha256=item.sha256, size=item.size)
        )
    return blobs


def _prepare(item: CommitFile, scratch: Path, index: int) -> _Prepared:
    info = item.source.lstat()
    if stat.S_ISLNK(info.st_mode):
        target = os.fsencode(os.readlink(item.source))
        holder = scratch / f"link-{index}"
        holder.write_bytes(target)
        return _describe(item.path, "120000", holder, target)
    mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
    sha256 = hashlib.sha256()
    header_size = info.st_size
    git = hashlib.sha1(f"blob {header_size}\0".encode(), usedforsecurity=False)
    size = 0
    with item.source.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            sha256.update(chunk)
            git.update(chunk)
            size += len(chunk)
    if size != header_size:
        raise GitFailed(f"{item.shown}: the file changed while it was being read")
    return _Prepared(item.path, mode, item.source, sha256.hexdigest(), size, git.hexdigest())


def _describe(path: str, mode: str, holder: Path, data: bytes) -> _Prepared:
    git = hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False)
    return _Prepared(
        path, mode, holder, hashlib.sha256(data).hexdigest(), len(data), git.hexdigest()
    )
