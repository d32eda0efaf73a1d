"""Real age and ssh key pairs for sealing tests (made with age-keygen and ssh-keygen)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

AGE = "age"


@dataclass(frozen=True)
class KeyPair:
    """A private key file and its public recipient line."""

    identity: Path
    recipient: str


def age_key_pair(directory: Path) -> KeyPair:
    """``age-keygen -o identity.txt``; the recipient is read from its output."""
    identity = directory / "identity.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    public = subprocess.run(
        ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return KeyPair(identity, public)


def ssh_key_pair(directory: Path) -> KeyPair:
    """An unencrypted ed25519 key made by ssh-keygen."""
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci@example", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return KeyPair(key, (directory / "id_ed25519.pub").read_text().strip())


def age_decrypt(sealed: Path, identity: Path) -> bytes:
    """What the standard ``age`` CLI makes of a sealed file."""
    return subprocess.run(
        [AGE, "--decrypt", "-i", str(identity), str(sealed)], check=True, capture_output=True
    ).stdout
