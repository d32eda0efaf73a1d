"""Settings of sealed artifacts: config ``artifacts.seal``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SealSettings:
    """``artifacts.seal``: the age recipients kept files are sealed for at the run's end."""

    recipients: tuple[str, ...]  # validated public keys (age1... / ssh-ed25519 ...)
    keep_hashes: bool = False  # keep plaintext sizes and SHA-256 of sealed files
