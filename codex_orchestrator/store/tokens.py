"""Resume tokens: 32 random bytes in ``.resume-token`` (0600), only the hash in the manifest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from codex_orchestrator.store.fsutil import atomic_write

PREFIX = "sha256:"


def new_token() -> str:
    """A fresh token: 64 hex chars."""
    return secrets.token_hex(32)


def token_digest(token: str) -> str:
    """What the manifest records: ``sha256:<hex>``."""
    return PREFIX + hashlib.sha256(token.strip().encode()).hexdigest()


def write_token(path: Path, token: str) -> None:
    """Write the token file with mode 0600."""
    atomic_write(path, token.encode() + b"\n", mode=0o600)


def read_token(path: Path) -> str | None:
    """The token stored beside a run, or None when it is absent or unreadable."""
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def token_matches(token: str, recorded: str) -> bool:
    """Compare a token with what the manifest recorded, in constant time.

    Ours record ``sha256:<hex>``; the TypeScript tool records the token itself. Both
    sides are hashed before comparing a plain one, so the time does not depend on
    where they differ or on their lengths.
    """
    recorded = recorded.strip()
    if recorded.startswith(PREFIX):
        return hmac.compare_digest(token_digest(token).encode(), recorded.encode())
    return hmac.compare_digest(token_digest(token).encode(), token_digest(recorded).encode())
