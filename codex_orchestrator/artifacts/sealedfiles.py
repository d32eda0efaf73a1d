"""Reading sealed kept files: ``artifacts get --identity FILE`` decrypts them.

The identity (an age identity file or an OpenSSH private key) comes from
``--identity`` or ``$CODEX_ORCHESTRATOR_AGE_IDENTITY``; it is read only to decrypt and
never written anywhere. Without one, a sealed file is refused with exit 2.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from codex_orchestrator.artifacts.pathsafe import check_name, resolve_inside
from codex_orchestrator.artifacts.recipients import IDENTITY_ENV, load_identities
from codex_orchestrator.artifacts.runs import RunArtifacts
from codex_orchestrator.artifacts.seal import SEALED_SUFFIX, sealed_name, unseal
from codex_orchestrator.errors import InvalidInput


class _ChunkReader:
    """A ``read(n)`` view of an iterator of byte chunks (a pack member, streamed)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def identity_path(explicit: Path | None) -> Path | None:
    """``--identity``, else ``$CODEX_ORCHESTRATOR_AGE_IDENTITY``, else None."""
    if explicit is not None:
        return explicit
    value = os.environ.get(IDENTITY_ENV, "")
    return Path(value) if value else None


def sealed_source(run: RunArtifacts, name: str) -> BinaryIO | _ChunkReader | None:
    """The sealed copy of ``<instance>/<path>`` opened for reading, or None if not sealed."""
    from codex_orchestrator.artifacts.listing import split_artifact_path

    instance_id, path = split_artifact_path(run, name)
    check_name(path)
    if run.packed:
        from codex_orchestrator.artifacts.pack import read_member

        inner = f"instances/{'/instances/'.join(instance_id.split('/'))}/workspace/{path}"
        try:
            chunks = iter(read_member(run.paths.pack, inner + SEALED_SUFFIX))
            first = next(chunks, b"")
        except InvalidInput:
            return None
        return _ChunkReader([first, *chunks])
    workspace = run.paths.instance_by_id(instance_id).workspace
    target = resolve_inside(workspace, path)
    sealed = sealed_name(target)
    if target.exists() or not sealed.is_file():
        return None
    return sealed.open("rb")


def write_sealed(
    source: BinaryIO | _ChunkReader, name: str, identity: Path | None, out: Path | None
) -> int:
    """Decrypt a sealed file to stdout or ``out``; exit 2 without an identity or a wrong one.

    ``out`` is written through a temp file renamed into place, so a failed decryption
    leaves an existing ``out`` as it was and no half-written plaintext.
    """
    if identity is None:
        raise InvalidInput(
            f"{name} is sealed; pass --identity FILE (or set ${IDENTITY_ENV}) to decrypt it"
        )
    identities = load_identities(identity)
    if out is None:
        size = unseal(source, identities, sys.stdout.buffer, name=name)
        sys.stdout.flush()
        return size
    temp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            size = unseal(source, identities, handle, name=name)
        os.replace(temp, out)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from exc
        raise
    return size
