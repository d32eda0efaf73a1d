"""The structure of an age file, checked without the key (age-encryption.org/v1).

A sealed file is a text header, a 16-byte nonce and the payload in the STREAM
format: the plaintext cut into 64 KiB chunks, each followed by a 16-byte tag (an empty
plaintext is one empty chunk). So the header tells how many recipients can open the
file, and the file's length tells the plaintext's length; neither needs the identity.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"age-encryption.org/v1\n"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
MAX_HEADER_BYTES = 1024 * 1024
STANZA_COLUMNS = 64
# Stanza types a public recipient produces; age also writes random "grease" stanzas.
RECIPIENT_STANZAS = frozenset({"X25519", "ssh-ed25519", "ssh-rsa", "scrypt"})


class AgeFormatError(ValueError):
    """The bytes are not a well-formed age file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgeHeader:
    """What the header of an age file says, without decrypting it."""

    stanza_types: tuple[str, ...]
    ssh_tags: tuple[str, ...]
    header_size: int

    @property
    def recipient_count(self) -> int:
        """How many stanzas wrap the file key for a recipient (grease not counted)."""
        return sum(1 for kind in self.stanza_types if kind in RECIPIENT_STANZAS)


def payload_size(plaintext_size: int) -> int:
    """The bytes after the header for a plaintext of ``plaintext_size`` bytes."""
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return NONCE_SIZE + plaintext_size + chunks * TAG_SIZE


def plaintext_size(payload: int) -> int:
    """The plaintext length a payload of ``payload`` bytes holds (AgeFormatError if none)."""
    body = payload - NONCE_SIZE
    chunks = max(1, -(-body // (CHUNK_SIZE + TAG_SIZE)))
    size = body - chunks * TAG_SIZE
    if size < 0 or payload_size(size) != payload:
        raise AgeFormatError(f"a payload of {payload} bytes is not a whole STREAM")
    return size


def ssh_tag(recipient: str) -> str:
    """The 4-byte tag an ``ssh-ed25519``/``ssh-rsa`` stanza names its recipient by."""
    blob = base64.b64decode(recipient.split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()[:4]).decode().rstrip("=")


def read_header(stream: BinaryIO) -> AgeHeader:
    """Parse the header at the start of ``stream``, leaving it positioned after it."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise AgeFormatError("not an age file (no age-encryption.org/v1 line)")
    size = len(MAGIC)
    kinds: list[str] = []
    tags: list[str] = []
    in_body = False
    while True:
        line = stream.readline(MAX_HEADER_BYTES)
        size += len(line)
        if not line.endswith(b"\n") or size > MAX_HEADER_BYTES:
            raise AgeFormatError("the age header is cut short")
        text = line[:-1].decode("ascii", "replace")
        if text.startswith("--- "):
            if in_body or not kinds:
                raise AgeFormatError("the age header has no complete recipient stanza")
            return AgeHeader(stanza_types=tuple(kinds), ssh_tags=tuple(tags), header_size=size)
        if text.startswith("-> ") and not in_body:
            args = text[3:].split(" ")
            kinds.append(args[0])
            if args[0].startswith("ssh-") and len(args) > 1:
                tags.append(args[1])
            in_body = True
        elif in_body:
            in_body = len(text) == STANZA_COLUMNS  # a shorter line ends the stanza body
        else:
            raise AgeFormatError(f"unexpected line in the age header: {text[:40]!r}")


def is_age_file(path: Path) -> bool:
    """Whether ``path`` starts like an age file (a cheap test, not a verification)."""
    try:
        with path.open("rb") as stream:
            return stream.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def check_structure(path: Path, *, plaintext: int, recipients: int | None) -> AgeHeader:
    """Check a sealed file on disk: header parses, stanza count (if given), STREAM length."""
    with path.open("rb") as stream:
        header = read_header(stream)
        total = stream.seek(0, 2)
    if recipients is not None and header.recipient_count != recipients:
        raise AgeFormatError(
            f"{header.recipient_count} recipient stanzas in the header, expected {recipients}"
        )
    payload = total - header.header_size
    if payload != payload_size(plaintext):
        raise AgeFormatError(
            f"{payload} payload bytes, expected {payload_size(plaintext)} "
            f"for {plaintext} plaintext bytes"
        )
    return header
