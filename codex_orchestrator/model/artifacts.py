"""Settings of kept artifacts: config ``artifacts {dir, retention, seal}``."""

from __future__ import annotations

from dataclasses import dataclass, field

from codex_orchestrator.model.sealing import SealSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """``artifacts.retention``: what ``prune`` and ``pack`` apply after each run."""

    days: float | None = None
    keep_last: int | None = None
    max_size: int | None = None  # bytes
    compress_after_days: float | None = None

    @property
    def prunes(self) -> bool:
        """Whether any pruning rule is set."""
        return self.days is not None or self.keep_last is not None or self.max_size is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactSettings:
    """``artifacts``: where kept artifacts go and how long they stay."""

    dir: str | None = None
    retention: Retention = field(default_factory=Retention)
    seal: SealSettings | None = None
