"""``artifacts.tar.zst``: a run's ``instances/`` packed into one zstandard tar.

Modes and links are kept. Reading back (``ls``/``get``/``search``, ``extract_pack``)
refuses unsafe members: absolute names, ``..``, links leading outside, devices and FIFOs.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.store.layout import ArtifactPaths

LEVEL = 10
PREFIX = "instances/"


class UnsafeMember(InvalidInput):
    """A member of a pack that would land outside where it is extracted."""


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse a member that is not a plain file, directory or inside link."""
    name = member.name
    parts = Path(name).parts
    if name.startswith("/") or ".." in parts or not name.startswith(PREFIX.rstrip("/")):
        raise UnsafeMember(f"unsafe pack member {name!r}: outside instances/")
    if member.issym():
        target = os.path.normpath(os.path.join(os.path.dirname(name), member.linkname))
        if member.linkname.startswith("/") or target.startswith(".."):
            raise UnsafeMember(f"unsafe pack member {name!r}: link leads outside")
    elif member.islnk():
        raise UnsafeMember(f"unsafe pack member {name!r}: hard link")
    elif not (member.isfile() or member.isdir()):
        raise UnsafeMember(f"unsafe pack member {name!r}: not a file, directory or link")


def pack_instances(paths: ArtifactPaths) -> int:
    """Write ``artifacts.tar.zst`` from ``instances/`` (synced), return its size in bytes."""
    import zstandard

    temp = paths.pack.with_name(f".{paths.pack.name}.tmp")
    with open(temp, "wb") as raw:
        compressor = zstandard.ZstdCompressor(level=LEVEL)
        with (
            compressor.stream_writer(raw, closefd=False) as stream,
            tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            for path in _sorted_tree(paths.instances_dir):
                name = (Path("instances") / path.relative_to(paths.instances_dir)).as_posix()
                tar.add(path, arcname=name, recursive=False)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temp, paths.pack)
    return paths.pack.stat().st_size


def _sorted_tree(top: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(top):
        dirnames.sort()
        base = Path(directory)
        if base != top:
            yield base
        for name in sorted(filenames):
            yield base / name
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name


@contextlib.contextmanager
def open_pack(pack: Path) -> Iterator[tarfile.TarFile]:
    """The pack as a streaming tar (members in order, each checked as it comes)."""
    import zstandard

    with open(pack, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        with reader, tarfile.open(fileobj=reader, mode="r|") as tar:
            yield tar


def iter_members(pack: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes] | None]]:
    """Each member (checked) with a reader for regular files, streamed."""
    with open_pack(pack) as tar:
        for member in tar:
            check_member(member)
            yield member, tar.extractfile(member) if member.isfile() else None


def read_member(pack: Path, name: str) -> Iterator[bytes]:
    """The bytes of one regular file of the pack, in chunks; InvalidInput if absent."""
    for member, handle in iter_members(pack):
        if member.name != name:
            continue
        if member.issym():
            raise InvalidInput(f"{name} is a link to {member.linkname}, not a file")
        if handle is None:
            raise InvalidInput(f"{name} is not a file")
        while chunk := handle.read(io.DEFAULT_BUFFER_SIZE * 16):
            yield chunk
        return
    raise InvalidInput(f"{name} is not in {pack.name}")


def extract_pack(pack: Path, destination: Path) -> int:
    """Extract a pack below ``destination`` (every member checked first); members extracted."""
    count = 0
    with open_pack(pack) as tar:
        for member in tar:
            check_member(member)
            tar.extract(member, destination, filter="data")
            count += 1
    return count
