"""The state a run carries while it executes: its files, its manifest, its heartbeat."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.engine.executor import Executor
from codex_orchestrator.engine.masking import mask_text, secret_values
from codex_orchestrator.engine.observer import RunObserver
from codex_orchestrator.engine.signals import CancelWatch
from codex_orchestrator.model import (
    HEARTBEAT_INTERVAL_SECONDS,
    ChildRun,
    CommandRecord,
    Config,
    RunManifest,
    now_iso,
)
from codex_orchestrator.store.events import EventLog
from codex_orchestrator.store.evidence import write_heartbeat
from codex_orchestrator.store.journal import CHILD_EVENT, COMMAND_EVENT
from codex_orchestrator.store.layout import RunPaths, RunsLayout
from codex_orchestrator.store.manifest import ManifestWriter


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """What every run of one invocation shares (children included)."""

    layout: RunsLayout
    config: Config
    config_path: Path | None
    cancel: CancelWatch
    observer: RunObserver
    executor: Executor
    stage_timeout_ms: int | None = None
    # Parallel stages of graph runs (--jobs; None: the pipeline's jobs, else the CPUs),
    # and --fail-fast (launch nothing new after a failure).
    jobs: int | None = None
    fail_fast: bool = False
    # Values of secret-named environment variables (secrets.maskEnv): *** in all evidence.
    mask: tuple[bytes, ...] = ()

    def masked(self, text: str) -> str:
        """``text`` as it may be written under .runs or shown."""
        return mask_text(text, self.mask)


@contextlib.contextmanager
def run_settings(
    layout: RunsLayout,
    config: Config,
    config_path: Path | None,
    observer: RunObserver,
    stage_timeout_ms: int | None,
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    fail_fast: bool = False,
) -> Iterator[RunSettings]:
    """Settings for runs driven now: SIGINT/SIGTERM become a cancel request meanwhile."""
    if executor is None:
        from codex_orchestrator.engine.process import LocalExecutor

        executor = LocalExecutor()
    with CancelWatch() as cancel:
        yield RunSettings(
            layout=layout,
            config=config,
            config_path=config_path,
            cancel=cancel,
            observer=observer,
            executor=executor,
            stage_timeout_ms=stage_timeout_ms,
            jobs=jobs,
            fail_fast=fail_fast,
            mask=secret_values(os.environ, config.secrets.mask_env),
        )


class RunContext:
    """One run in progress: the only writer of its manifest and event log."""

    def __init__(
        self,
        settings: RunSettings,
        paths: RunPaths,
        writer: ManifestWriter,
        events: EventLog,
        parent: RunContext | None = None,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.writer = writer
        self.events = events
        self.parent = parent
        self._last_heartbeat = 0.0
        writer.journal = events.offset
        # Per-run values the stages reuse (engine/keeping.py): computed once, not per stage.
        self.cache: dict[str, Any] = {}

    @property
    def manifest(self) -> RunManifest:
        """The current state."""
        return self.writer.manifest

    def update(self, manifest: RunManifest, *, force: bool = False) -> None:
        """Replace the state (written at once when forced, else coalesced)."""
        self.writer.update(manifest, force=force)

    def record_command(self, record: CommandRecord, *, force: bool = False) -> None:
        """A stage's record changed: journal it first, then update the state."""
        self.events.event(COMMAND_EVENT, record=record.to_dict())
        updated = self.manifest.with_command(record, updated_at=now_iso())
        self.writer.update(updated, force=force, stamped=True)

    def record_child(self, child: ChildRun) -> None:
        """A child run started or ended: journal it first, then update the state."""
        self.events.event(CHILD_EVENT, child=child.to_dict())
        self.update(self.manifest.with_child(child))

    def heartbeat(self) -> None:
        """Rewrite ``.heartbeat`` and stamp ``heartbeat_at``."""
        stamp = now_iso()
        write_heartbeat(self.paths.heartbeat, stamp)
        self.writer.update(self.writer.manifest.replace(heartbeat_at=stamp))
        self._last_heartbeat = time.monotonic()

    def tick(self) -> None:
        """Called often while a stage runs: heartbeat when due, pending writes when due."""
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_INTERVAL_SECONDS:
            self.heartbeat()
        self.writer.flush_due()
        if self.parent is not None:
            self.parent.tick()
