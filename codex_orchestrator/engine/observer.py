"""What the engine tells the outside world while it runs (the UI implements it)."""

from __future__ import annotations

from typing import Protocol

from codex_orchestrator.model import CommandRecord, RunManifest


class RunObserver(Protocol):
    """Receives progress; ``wants_output`` asks for output lines too (live views)."""

    wants_output: bool

    def run_started(self, manifest: RunManifest) -> None:
        """A run (or child run) began."""

    def stage_started(self, manifest: RunManifest, record: CommandRecord) -> None:
        """A stage began."""

    def output(self, index: int, stream: str, text: str) -> None:
        """One output line of the running stage (only when ``wants_output``)."""

    def stage_finished(self, manifest: RunManifest, record: CommandRecord) -> None:
        """A stage ended (succeeded, failed or skipped)."""

    def run_finished(self, manifest: RunManifest) -> None:
        """A run reached a terminal state."""


class NullObserver:
    """Observes nothing."""

    wants_output = False

    def run_started(self, manifest: RunManifest) -> None:
        """Nothing."""

    def stage_started(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Nothing."""

    def output(self, index: int, stream: str, text: str) -> None:
        """Nothing."""

    def stage_finished(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Nothing."""

    def run_finished(self, manifest: RunManifest) -> None:
        """Nothing."""
