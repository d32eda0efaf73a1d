"""Opening a run to drive: a new one (``start``) or an existing one (``resume``).

Nothing here runs stages: the driver (engine/runner.py) takes the context these
functions return. Keeping them apart lets ``runner`` resume child runs and
``resume`` drive runs without importing each other.
"""

from __future__ import annotations

import dataclasses
import socket

from codex_orchestrator import __version__
from codex_orchestrator.engine.context import RunContext, RunSettings
from codex_orchestrator.engine.liveness import current_identity
from codex_orchestrator.errors import StoreError
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
from codex_orchestrator.store.events import EventLog
from codex_orchestrator.store.layout import RunPaths
from codex_orchestrator.store.manifest import ManifestWriter
from codex_orchestrator.store.tokens import new_token, token_digest, write_token

RESUMABLE = (CommandStatus.PENDING, CommandStatus.RUNNING, CommandStatus.FAILED)


class StageWithoutCommand(Exception):
    """A stage to run again has no command: not in the config, none recorded."""

    def __init__(self, stage_id: str) -> None:
        super().__init__(stage_id)
        self.stage_id = stage_id


def new_manifest(
    settings: RunSettings,
    paths: RunPaths,
    pipeline: Pipeline,
    token_hash: str,
    parent_run_id: str | None,
) -> RunManifest:
    """The first state of a run: every stage pending."""
    layout = settings.layout
    pid, create_time = current_identity()
    started = now_iso()
    return RunManifest(
        task_id=paths.task_id,
        task_slug=paths.task_id,
        run_id=paths.run_id,
        parent_run_id=parent_run_id,
        pipeline_id=pipeline.id,
        pipeline_title=pipeline.title,
        status=RunStatus.IN_PROGRESS,
        started_at=started,
        updated_at=started,
        heartbeat_at=started,
        artifact_root=paths.relative(paths.run_dir),
        compat_path=layout.relative(layout.compat_pointer(paths.task_id, paths.run_id)),
        log_path=paths.relative(paths.runner_log),
        resume_token=token_hash,
        commands=tuple(
            CommandRecord(
                index=position,
                id=stage.id,
                title=stage.title,
                command=settings.masked(stage.command)
                if isinstance(stage, CommandStage) and stage.skip_reason is None
                else None,
                kind=stage.kind,
            )
            for position, stage in enumerate(pipeline.stages, start=1)
        ),
        guardrails_required=pipeline.requires_guardrails,
        runner_version=f"codex-orchestrator {__version__} (python)",
        runner_pid=pid,
        runner_create_time=create_time,
        host=socket.gethostname(),
        config_path=layout.relative(settings.config_path) if settings.config_path else None,
    )


def open_new_run(
    settings: RunSettings,
    paths: RunPaths,
    pipeline: Pipeline,
    parent_run_id: str | None,
    parent: RunContext | None,
) -> RunContext:
    """Write a new run's token and first manifest (its directory exists, its lock is held)."""
    token = new_token()
    try:
        write_token(paths.resume_token, token)
    except OSError as exc:
        raise StoreError(f"cannot write {paths.resume_token}: {exc.strerror or exc}") from exc
    manifest = new_manifest(settings, paths, pipeline, token_digest(token), parent_run_id)
    writer = ManifestWriter(paths.manifest, manifest)
    writer.flush()
    ctx = RunContext(settings, paths, writer, EventLog(paths.runner_log), parent)
    ctx.events.event("run:start", pipeline_id=pipeline.id, run_id=paths.run_id)
    return ctx


def reopen_run(
    settings: RunSettings,
    paths: RunPaths,
    manifest: RunManifest,
    event: ResumeEvent,
    pipeline: Pipeline,
    parent: RunContext | None,
) -> RunContext:
    """Take over an existing run (its lock is held): stages to run again go back to pending."""
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
    writer = ManifestWriter(paths.manifest, manifest, taken_over=True)
    writer.flush()
    ctx = RunContext(settings, paths, writer, EventLog(paths.runner_log), parent)
    ctx.events.event("run:resume", actor=event.actor, reason=event.reason)
    return ctx


def _reset(record: CommandRecord, stage: Stage, settings: RunSettings) -> CommandRecord:
    """A stage to run again goes back to pending, with the current config's command."""
    if record.status not in RESUMABLE:
        return record
    command = settings.masked(stage.command) if isinstance(stage, CommandStage) else None
    return dataclasses.replace(record, status=CommandStatus.PENDING, command=command)


def pipeline_for_resume(
    config: Config, manifest: RunManifest, given: Pipeline | None = None
) -> Pipeline:
    """The run's stages, in the manifest's order, with the current config's definitions.

    A stage the config no longer has (or a pipeline it never had, like ``exec``) is
    rebuilt from what the manifest recorded; one that must run again but recorded no
    command raises StageWithoutCommand (it is never replaced by a guess).
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
        elif record.command is not None:
            stages.append(CommandStage(id=record.id, title=record.title, command=record.command))
        elif record.status in RESUMABLE:
            raise StageWithoutCommand(record.id)
        else:
            # Finished (skipped) and not run again: only its place in the order matters.
            stages.append(
                CommandStage(
                    id=record.id, title=record.title, command="", skip_reason=record.summary
                )
            )
    return Pipeline(
        id=manifest.pipeline_id,
        title=manifest.pipeline_title,
        stages=tuple(stages),
        guardrails_required=manifest.guardrails_required,
    )
