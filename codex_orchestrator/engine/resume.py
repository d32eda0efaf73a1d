"""``resume``: finish a crashed, failed or cancelled run, safely.

A resume takes the run's lock, checks the token (constant time, against the hash
in the manifest), the runner's liveness (pid + create time) and the status, and
records every attempt as a resume event, ``accepted`` or ``blocked``. Accepted,
it re-runs the stages that did not succeed, with the current config's commands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.engine.context import RunContext, RunSettings, run_settings
from codex_orchestrator.engine.liveness import current_identity, runner_alive
from codex_orchestrator.engine.observer import RunObserver
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.runner import drive, hold_run_lock
from codex_orchestrator.errors import LockTimeout, ResumeBlocked
from codex_orchestrator.model import (
    CommandRecord,
    CommandStage,
    CommandStatus,
    Config,
    Pipeline,
    ResumeEvent,
    RunManifest,
    RunStatus,
    Stage,
    StageKind,
    SubpipelineStage,
    now_iso,
)
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.events import EventLog
from codex_orchestrator.store.evidence import read_lock_owner
from codex_orchestrator.store.layout import RunPaths, RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import ManifestWriter, read_manifest, record_resume_event
from codex_orchestrator.store.tokens import read_token, token_matches

RESUMABLE = (CommandStatus.PENDING, CommandStatus.RUNNING, CommandStatus.FAILED)
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


def resume(request: ResumeRequest, observer: RunObserver, warn: Callable[[str], None]) -> RunResult:
    """Resume a run, or raise ResumeBlocked (exit 2) after recording why."""
    from codex_orchestrator.engine.launch import load_run_config

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
        ended = end_leftovers(manifest, paths.run_dir)
        with run_settings(
            layout, config, config_path, observer, request.stage_timeout_ms
        ) as settings:
            event = ResumeEvent(timestamp=now_iso(), actor=actor, reason=reason, outcome="accepted")
            return _continue(settings, paths, manifest, event, parent=None, ended=ended)


def end_leftovers(manifest: RunManifest, run_dir: Path) -> list[dict[str, object]]:
    """End what the run's dead runner left running (each stage's session), before any
    stage runs again; a pid reused by an unrelated process is never touched."""
    from codex_orchestrator.engine.leftovers import end_session, recorded_sessions

    ended: list[dict[str, object]] = []
    for stage_id, session in recorded_sessions(manifest, run_dir):
        ended += [{**process, "stage": stage_id} for process in end_session(session)]
    return ended


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


def resume_child(parent: RunContext, pipeline: Pipeline, run_id: str) -> RunResult:
    """Resume a child run as part of its parent's resume (the parent was authorised)."""
    settings = parent.settings
    paths = settings.layout.run(parent.paths.task_id, run_id)
    with hold_run_lock(paths):
        manifest = read_manifest(paths.manifest)
        if manifest.status is RunStatus.SUCCEEDED:
            return RunResult(manifest=manifest, paths=paths)
        event = ResumeEvent(
            timestamp=now_iso(),
            actor="codex-orchestrator",
            reason=f"parent run {parent.manifest.run_id} resumed",
            outcome="accepted",
        )
        ended = end_leftovers(manifest, paths.run_dir)
        return _continue(
            settings, paths, manifest, event, parent=parent, pipeline=pipeline, ended=ended
        )


def _continue(
    settings: RunSettings,
    paths: RunPaths,
    manifest: RunManifest,
    event: ResumeEvent,
    *,
    parent: RunContext | None,
    pipeline: Pipeline | None = None,
    ended: list[dict[str, object]] | None = None,
) -> RunResult:
    pipeline = _pipeline_for(settings.config, manifest, pipeline)
    pid, create_time = current_identity()
    commands = tuple(
        _reset(record, stage, settings)
        for record, stage in zip(manifest.commands, pipeline.stages, strict=True)
    )
    manifest = manifest.replace(
        status=RunStatus.IN_PROGRESS,
        status_detail="resuming",
        completed_at=None,
        metrics_recorded=False,
        runner_pid=pid,
        runner_create_time=create_time,
        resume_events=(*manifest.resume_events, event),
        commands=commands,
    )
    writer = ManifestWriter(paths.manifest, manifest)
    writer.flush()
    ctx = RunContext(settings, paths, writer, EventLog(paths.runner_log), parent)
    ctx.events.event(
        "run:resume", actor=event.actor, reason=event.reason, ended_processes=ended or []
    )
    return drive(ctx, pipeline)


def _reset(record: CommandRecord, stage: Stage, settings: RunSettings) -> CommandRecord:
    """A stage to run again goes back to pending, with the current config's command."""
    if record.status not in RESUMABLE:
        return record
    command = settings.masked(stage.command) if isinstance(stage, CommandStage) else None
    return dataclasses.replace(record, status=CommandStatus.PENDING, command=command)


def _pipeline_for(config: Config, manifest: RunManifest, given: Pipeline | None) -> Pipeline:
    """The run's stages, in the manifest's order, with the current config's definitions.

    A stage the config no longer has (or a pipeline it never had, like ``exec``) is
    rebuilt from what the manifest recorded.
    """
    current = given or config.pipelines.get(manifest.pipeline_id)
    by_id: dict[str, Stage] = {stage.id: stage for stage in current.stages} if current else {}
    child_pipelines = {child.run_id: child.pipeline_id for child in manifest.child_runs}
    stages: list[Stage] = []
    for record in manifest.commands:
        stage = by_id.get(record.id)
        if stage is not None and stage.kind == record.kind:
            stages.append(stage)
        elif record.kind is StageKind.SUBPIPELINE:
            name = child_pipelines.get(record.sub_run_id or "", record.id)
            stages.append(SubpipelineStage(id=record.id, title=record.title, pipeline=name))
        else:
            stages.append(
                CommandStage(id=record.id, title=record.title, command=record.command or "true")
            )
    return Pipeline(
        id=manifest.pipeline_id,
        title=manifest.pipeline_title,
        stages=tuple(stages),
        guardrails_required=manifest.guardrails_required,
    )


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
