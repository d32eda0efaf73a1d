"""Sealing kept files with age: ``<path>`` becomes ``<path>.age``, never losing a copy.

For each file: encrypt it, streaming (pyrage reads and writes in small blocks, so a
1 GB file needs a few MB), into a private temp file beside it (mode 0600); fsync;
verify; rename it to ``<path>.age``; fsync the directory; only then remove the
plaintext. Verification reads the sealed copy back from disk: the header parses, it
has one stanza per recipient (ssh ones by their key tag), its length is exactly what
the STREAM format gives for the plaintext's length, and it decrypts to the same bytes
(same length and SHA-256). The runner holds no identity, so each file is also sealed to
a one-time key pair made in memory for that file and dropped right after the check:
the file key it wraps is as random as the file's own, and no key is ever written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from codex_orchestrator.artifacts.agefile import AgeFormatError, check_structure, is_age_file
from codex_orchestrator.artifacts.recipients import Recipients
from codex_orchestrator.errors import InvalidInput

SEALED_SUFFIX = ".age"
_TEMP = re.compile(r"^\..+\.age\.[0-9a-f]{12}\.sealing$")


class SealError(Exception):
    """One file could not be sealed; its plaintext is untouched."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedFile:
    """One file sealed: where, and what the plaintext was."""

    path: str
    size: int
    sha256: str
    sealed_size: int


@dataclass(slots=True, kw_only=True)
class SealReport:
    """What sealing a tree did: files sealed now, already sealed, and failures."""

    sealed: list[SealedFile] = field(default_factory=list)
    already_sealed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every file is sealed now."""
        return not self.failed


class _Digest:
    """A writer that counts and hashes what is written to it (and keeps nothing)."""

    def __init__(self) -> None:
        self.size = 0
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""


class _HashingReader(_Digest):
    """A reader that counts and hashes the bytes read through it."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self.inner = inner

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.write(data)
        return data


def sealed_name(path: Path) -> Path:
    """``<path>.age``."""
    return path.with_name(path.name + SEALED_SUFFIX)


def seal_file(source: Path, recipients: Recipients, *, relative: str | None = None) -> SealedFile:
    """Seal one regular file into ``<source>.age`` and remove ``source``; SealError if not."""
    import pyrage

    target = sealed_name(source)
    _refuse_foreign_target(source, target)
    one_time = pyrage.x25519.Identity.generate()
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.sealing")
    try:
        plain = _encrypt(source, temp, [*recipients.to_pyrage(), one_time.to_public()])
        _verify(temp, recipients, one_time, plain)
        sealed_size = os.stat(temp).st_size
        os.replace(temp, target)
        _fsync_dir(target.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, SealError):
            raise
        if isinstance(exc, OSError | pyrage.EncryptError | pyrage.DecryptError):
            raise SealError(_reason(exc)) from exc
        raise
    try:
        os.unlink(source)
        _fsync_dir(source.parent)
    except OSError as exc:
        raise SealError(f"sealed, but the plaintext could not be removed: {_reason(exc)}") from exc
    return SealedFile(
        path=relative or source.name,
        size=plain.size,
        sha256=plain.digest.hexdigest(),
        sealed_size=sealed_size,
    )


def _encrypt(source: Path, temp: Path, keys: list[Any]) -> _HashingReader:
    """Stream ``source`` encrypted into a new private ``temp``, synced to disk."""
    import pyrage

    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as raw:
        plain = _HashingReader(raw)
        pyrage.encrypt_io(plain, out, keys)
        out.flush()
        os.fsync(out.fileno())
    if os.stat(source).st_size != plain.size:
        raise SealError("the file changed while it was being sealed")
    return plain


def _refuse_foreign_target(source: Path, target: Path) -> None:
    """An existing ``<source>.age`` is overwritten only if it is an earlier seal of it.

    A seal interrupted after its rename leaves both files; anything else there is the
    stage's own file and must not be replaced.
    """
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_file():
        raise SealError(f"{target.name} already exists and is not a sealed copy of {source.name}")
    try:
        check_structure(target, plaintext=os.stat(source).st_size, recipients=None)
    except (AgeFormatError, OSError) as exc:
        raise SealError(
            f"{target.name} already exists and is not a sealed copy of {source.name}"
        ) from exc


def _verify(sealed: Path, recipients: Recipients, one_time: Any, plain: _Digest) -> None:
    """Read the sealed copy back from disk and check it (see the module docstring)."""
    import pyrage

    try:
        header = check_structure(sealed, plaintext=plain.size, recipients=len(recipients.keys) + 1)
    except AgeFormatError as exc:
        raise SealError(f"the sealed copy does not verify: {exc}") from exc
    if not recipients.ssh_tags <= set(header.ssh_tags):
        raise SealError("the sealed copy does not name every ssh recipient")
    check = _Digest()
    with sealed.open("rb") as stream:
        try:
            pyrage.decrypt_io(stream, check, [one_time])
        except pyrage.DecryptError as exc:
            raise SealError(f"the sealed copy does not decrypt: {exc}") from exc
    if (check.size, check.digest.digest()) != (plain.size, plain.digest.digest()):
        raise SealError("the sealed copy decrypts to different bytes")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{name}"
    return f"{type(exc).__name__}: {exc}"


def seal_tree(root: Path, recipients: Recipients) -> SealReport:
    """Seal every regular file below ``root`` (links stay links); safe to run again.

    Files already sealed (``*.age`` in the age format with no plaintext beside them)
    are left alone; leftovers of an interrupted seal are removed; a failure leaves the
    plaintext in place and the tree's directories private (0700).
    """
    report = SealReport()
    for relative in sorted(_regular_files(root), reverse=True):  # x.age before x
        path = root / relative
        if _TEMP.match(path.name):
            with contextlib.suppress(OSError):
                if path.stat().st_size == 0 or is_age_file(path):
                    path.unlink()
            continue
        if _is_sealed(path):
            if not path.with_name(path.name[: -len(SEALED_SUFFIX)]).exists():
                report.already_sealed.append(relative)
            continue
        try:
            report.sealed.append(seal_file(path, recipients, relative=relative))
        except SealError as exc:
            report.failed.append((relative, str(exc)))
    if report.failed:
        make_private(root)
    return report


def _is_sealed(path: Path) -> bool:
    """An age file ``x.age`` with no ``x`` beside it, or an earlier seal of the ``x`` there.

    The second case is a seal interrupted before it removed the plaintext: the
    plaintext is sealed again, over it.
    """
    if not path.name.endswith(SEALED_SUFFIX) or not is_age_file(path):
        return False
    plaintext = path.with_name(path.name[: -len(SEALED_SUFFIX)])
    try:
        size = plaintext.stat().st_size
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        check_structure(path, plaintext=size, recipients=None)
    except (AgeFormatError, OSError):
        return False
    return True


def _regular_files(root: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if not os.path.islink(os.path.join(folder, name))]
        for name in files:
            full = os.path.join(folder, name)
            if not os.path.islink(full) and os.path.isfile(full):
                found.append(os.path.relpath(full, root))
    return found


def make_private(root: Path) -> None:
    """Directories below ``root`` (and ``root``) to 0700: nobody else reads plaintext left."""
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            with contextlib.suppress(OSError):
                if not os.path.islink(os.path.join(folder, name)):
                    os.chmod(os.path.join(folder, name), 0o700)
    with contextlib.suppress(OSError):
        os.chmod(root, 0o700)


def unseal(sealed: Any, identities: Sequence[Any], out: BinaryIO, *, name: str = "") -> int:
    """Decrypt ``sealed`` (a path or a binary reader) into ``out``, streaming; its size."""
    import pyrage

    sink = _Digest()

    class _Tee:
        def write(self, data: bytes) -> int:
            out.write(data)
            return sink.write(data)

        def flush(self) -> None:
            out.flush()

    shown = name or getattr(sealed, "name", "the file")
    try:
        if isinstance(sealed, Path):
            shown = name or sealed.name
            with sealed.open("rb") as stream:
                pyrage.decrypt_io(stream, _Tee(), list(identities))
        else:
            pyrage.decrypt_io(sealed, _Tee(), list(identities))
    except pyrage.DecryptError as exc:
        raise InvalidInput(f"cannot decrypt {shown} with that identity: {exc}") from exc
    return sink.size
