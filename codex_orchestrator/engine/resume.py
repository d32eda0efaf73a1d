"""``resume``: finish a crashed, failed or cancelled run, safely.

A resume takes the run's lock, checks the token (constant time, against the hash
in the manifest), the runner's liveness (pid + create time) and the status, and
records every attempt as a resume event, ``accepted`` or ``blocked``. Accepted,
it re-runs the stages that did not succeed, with the current config's commands.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codex_orchestrator.config import load_run_config
from codex_orchestrator.engine.context import run_settings
from codex_orchestrator.engine.leftovers import end_recorded
from codex_orchestrator.engine.liveness import runner_alive
from codex_orchestrator.engine.observer import RunObserver
from codex_orchestrator.engine.opening import StageWithoutCommand, pipeline_for_resume, reopen_run
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.runlock import hold_run_lock
from codex_orchestrator.engine.runner import drive
from codex_orchestrator.errors import LockTimeout, ResumeBlocked
from codex_orchestrator.executors.select import ExecutorChoice, open_executor, resolve_executor
from codex_orchestrator.model import ResumeEvent, RunManifest, RunStatus, now_iso
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.evidence import read_lock_owner
from codex_orchestrator.store.layout import RunPaths, RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest, record_resume_event
from codex_orchestrator.store.tokens import read_token, token_matches

# How long a refused resume looks for the live runner that holds the lock.
HOLDER_WAIT_SECONDS = 10.0
HOLDER_POLL_SECONDS = 0.02


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeRequest:
    """What ``resume`` was asked to do."""

    root: Path
    run_id: str
    task: str | None = None
    token: str | None = None
    actor: str | None = None
    reason: str | None = None
    config: Path | None = None
    stage_timeout_ms: int | None = None
    jobs: int | None = None
    fail_fast: bool = False
    executor: ExecutorChoice = field(default_factory=ExecutorChoice)


def resume(request: ResumeRequest, observer: RunObserver, warn: Callable[[str], None]) -> RunResult:
    """Resume a run, or raise ResumeBlocked (exit 2) after recording why."""
    layout = RunsLayout.for_root(request.root)
    task = resolve_task_id(request.task) if request.task is not None else None
    ref = locate_run(layout, request.run_id, task)
    paths = layout.run(ref.task_id, ref.run_id)
    manifest = read_manifest(paths.manifest)  # unreadable: exit 2, nothing written
    actor = request.actor or _default_actor()
    reason = request.reason or "manual resume"
    config, config_path = load_run_config(request.root, request.config, warn)

    def blocked(detail: str) -> ResumeBlocked:
        event = ResumeEvent(
            timestamp=now_iso(), actor=actor, reason=reason, outcome="blocked", detail=detail
        )
        record_resume_event(paths.manifest, event)
        return ResumeBlocked(f"resume of run {ref.run_id} refused: {detail}")

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(hold_run_lock(paths))
    except LockTimeout:
        raise blocked(f"runner-active:{_lock_holder_pid(paths, manifest)}") from None
    with stack:
        manifest = read_manifest(paths.manifest)  # re-read under the lock
        token = request.token or read_token(paths.resume_token)
        if token is None or not token_matches(token, manifest.resume_token):
            raise blocked("resume-token-mismatch")
        if manifest.runner_pid != os.getpid() and runner_alive(
            manifest.runner_pid, manifest.runner_create_time
        ):
            raise blocked(f"runner-active:{manifest.runner_pid}")
        if manifest.status is RunStatus.SUCCEEDED:
            raise blocked("terminal-status:succeeded")
        try:
            pipeline = pipeline_for_resume(config, manifest)
        except StageWithoutCommand as exc:
            raise blocked(f"stage-without-command:{exc.stage_id}") from None
        ended = end_recorded(manifest, paths.run_dir)
        executor_config = resolve_executor(request.executor, config.executor)
        with (
            open_executor(executor_config) as executor,
            run_settings(
                layout,
                config,
                config_path,
                observer,
                request.stage_timeout_ms,
                jobs=request.jobs,
                fail_fast=request.fail_fast,
                executor=executor,
            ) as settings,
        ):
            event = ResumeEvent(timestamp=now_iso(), actor=actor, reason=reason, outcome="accepted")
            ctx = reopen_run(settings, paths, manifest, event, pipeline, None, ended)
            return drive(ctx, pipeline)


def _lock_holder_pid(paths: RunPaths, seen: RunManifest) -> int | None:
    """The pid of the live process that holds the run's lock.

    The holder records itself in ``.run.owner`` right after taking the lock, so a
    refused resume may look a moment before the record names a live process: look
    again for a short while, then fall back to the runner the manifest names.
    """
    deadline = time.monotonic() + HOLDER_WAIT_SECONDS
    while True:
        owner = read_lock_owner(paths.lock_owner)
        if owner is not None and runner_alive(*owner):
            return owner[0]
        if time.monotonic() >= deadline:
            return seen.runner_pid
        time.sleep(HOLDER_POLL_SECONDS)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
