"""Age recipients (public keys) to seal for, and identities (private keys) to unseal with.

pyrage is imported only here and in ``seal.py``, inside functions, so commands that
never seal do not load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.errors import InvalidInput

SSH_KINDS = ("ssh-ed25519", "ssh-rsa")
IDENTITY_ENV = "CODEX_ORCHESTRATOR_AGE_IDENTITY"


@dataclass(frozen=True, slots=True)
class Recipients:
    """Validated recipients, kept as their text (``age1...`` / ``ssh-ed25519 AAAA...``)."""

    keys: tuple[str, ...]

    def to_pyrage(self) -> list[Any]:
        """The pyrage recipient objects (already validated, so this cannot fail)."""
        return [_parse(key) for key in self.keys]

    @property
    def ssh_tags(self) -> frozenset[str]:
        """The stanza tags of the ssh recipients, as the age header names them."""
        from codex_orchestrator.artifacts.agefile import ssh_tag

        return frozenset(ssh_tag(key) for key in self.keys if key.startswith(SSH_KINDS))


def _parse(key: str) -> Any:
    import pyrage

    if key.startswith("age1"):
        return pyrage.x25519.Recipient.from_str(key)
    return pyrage.ssh.Recipient.from_str(key)


def parse_recipient(text: str, where: str) -> str:
    """One recipient, normalised (an ssh key keeps its type and key, not its comment)."""
    import pyrage

    key = text.strip()
    if key.startswith(SSH_KINDS):
        key = " ".join(key.split()[:2])
    elif not key.startswith("age1"):
        raise InvalidInput(
            f"{where}: {_shown(key)} is not an age recipient (age1... or ssh-ed25519 ...)"
        )
    try:
        _parse(key)
    except pyrage.RecipientError as exc:
        raise InvalidInput(f"{where}: invalid age recipient {_shown(key)} ({exc})") from exc
    return key


def _shown(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:37] + "...")


def read_recipients_file(path: Path, where: str) -> list[str]:
    """The recipients of an age recipients file: one a line, ``#`` comments, blanks."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"{where}: cannot read recipients file {path}: {reason}") from exc
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            found.append(parse_recipient(stripped, f"{path}:{number}"))
    return found


def load_recipients(
    keys: Sequence[str], recipients_file: Path | None, *, where: str
) -> Recipients | None:
    """The configured recipients, all checked; None when sealing is not configured."""
    found = [parse_recipient(key, f"{where}.recipients[{i}]") for i, key in enumerate(keys)]
    if recipients_file is not None:
        file_keys = read_recipients_file(recipients_file, f"{where}.recipientsFile")
        if not file_keys:
            raise InvalidInput(f"{where}.recipientsFile: {recipients_file} names no recipient")
        found.extend(file_keys)
    if not found:
        return None
    return Recipients(tuple(dict.fromkeys(found)))


def load_identities(path: Path) -> list[Any]:
    """The identities in an age identity file or an OpenSSH private key (never echoed)."""
    import pyrage

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read identity file {path}: {exc.strerror or exc}") from exc
    try:
        if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
            return [pyrage.ssh.Identity.from_buffer(data)]
        lines = data.decode("utf-8").splitlines()
        keys = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
        identities = [pyrage.x25519.Identity.from_str(key) for key in keys]
    except (pyrage.IdentityError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"identity file {path} is not usable: {type(exc).__name__}") from exc
    if not identities:
        raise InvalidInput(f"identity file {path} holds no age identity (AGE-SECRET-KEY-1...)")
    return identities
