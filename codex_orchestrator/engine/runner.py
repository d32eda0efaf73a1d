"""The run driver: create the run, run its stages, then hand it to ``finalize``.

Every way a run ends goes through engine/finalize.py: success, failure, a cancel
signal, or an internal error (recorded with a crash log). Subpipelines are child runs
driven by the same functions, in this process, under the same cancel watch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import time
import traceback
from collections.abc import Iterator, Mapping

from filelock import FileLock, Timeout

from codex_orchestrator import __version__
from codex_orchestrator.engine.context import RunContext, RunSettings
from codex_orchestrator.engine.finalize import finalize, record_abort
from codex_orchestrator.engine.liveness import current_identity, runner_alive
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.stage import run_command_stage
from codex_orchestrator.errors import (
    ConfigError,
    InternalError,
    LockTimeout,
    OrchestratorError,
    StoreError,
)
from codex_orchestrator.model import (
    CommandRecord,
    CommandStage,
    CommandStatus,
    Pipeline,
    RunManifest,
    RunStatus,
    StageKind,
    SubpipelineStage,
    now_iso,
)
from codex_orchestrator.store.events import EventLog
from codex_orchestrator.store.evidence import read_lock_owner, write_lock_owner
from codex_orchestrator.store.layout import RunPaths, new_run_id
from codex_orchestrator.store.manifest import ManifestWriter, read_manifest, write_manifest
from codex_orchestrator.store.rundir import create_run_dir
from codex_orchestrator.store.tokens import new_token, token_digest, write_token


@contextlib.contextmanager
def hold_run_lock(paths: RunPaths) -> Iterator[None]:
    """Own a run while writing it; LockTimeout at once when another process does."""
    lock = FileLock(paths.lock, timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        owner = read_lock_owner(paths.lock_owner)
        holder = f" (pid {owner[0]})" if owner and runner_alive(*owner) else ""
        raise LockTimeout(
            f"run {paths.run_id} is locked by another codex-orchestrator process{holder}"
        ) from exc
    try:
        write_lock_owner(paths.lock_owner, *current_identity())
        yield
    finally:
        lock.release()


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


def start_run(
    settings: RunSettings,
    pipeline: Pipeline,
    task_id: str,
    *,
    parent_run_id: str | None = None,
    parent: RunContext | None = None,
    recorded: Mapping[str, str | None] | None = None,
) -> RunResult:
    """Create a new run of ``pipeline`` and drive it to a terminal state.

    ``recorded``: manifest fields given on the command line (approval policy, target,
    issue identity), recorded as given.
    """
    paths = create_run_dir(settings.layout, task_id, new_run_id())
    with hold_run_lock(paths):
        token = new_token()
        try:
            write_token(paths.resume_token, token)
        except OSError as exc:
            raise StoreError(f"cannot write {paths.resume_token}: {exc.strerror or exc}") from exc
        manifest = new_manifest(settings, paths, pipeline, token_digest(token), parent_run_id)
        manifest = manifest.replace(**(recorded or {}))
        writer = ManifestWriter(paths.manifest, manifest)
        writer.flush()
        ctx = RunContext(settings, paths, writer, EventLog(paths.runner_log), parent)
        ctx.events.event("run:start", pipeline_id=pipeline.id, run_id=paths.run_id)
        return drive(ctx, pipeline)


def drive(ctx: RunContext, pipeline: Pipeline) -> RunResult:
    """Run every stage that has not succeeded or been skipped, then finalize."""
    observer = ctx.settings.observer
    observer.run_started(ctx.manifest)
    try:
        ctx.heartbeat()
        ctx.writer.flush()
        _run_stages(ctx, pipeline)
        result = finalize(ctx, pipeline)
    except OrchestratorError as exc:
        record_abort(ctx, f"{type(exc).__name__}: {exc.message}")
        raise
    except Exception as exc:
        with contextlib.suppress(OSError):
            ctx.paths.crash_log.write_text(traceback.format_exc(), encoding="utf-8")
        record_abort(ctx, f"internal error: {exc!r}")
        raise InternalError(
            f"internal error: {exc!r} (traceback in {ctx.paths.relative(ctx.paths.crash_log)})"
        ) from exc
    finally:
        ctx.events.close()
    observer.run_finished(result.manifest)
    return result


def _run_stages(ctx: RunContext, pipeline: Pipeline) -> None:
    cancel = ctx.settings.cancel
    observer = ctx.settings.observer
    for stage, planned in zip(pipeline.stages, ctx.manifest.commands, strict=True):
        if planned.status in (CommandStatus.SUCCEEDED, CommandStatus.SKIPPED):
            continue
        if cancel.requested:
            return
        record = dataclasses.replace(
            planned,
            status=CommandStatus.RUNNING,
            started_at=now_iso(),
            completed_at=None,
            exit_code=None,
            summary=None,
            error_file=None,
            signal=None,
            duration_ms=None,
            resources=None,
        )
        # Journaled, not forced: the manifest is rewritten at most about once a second
        # and readers merge the journal (store/journal.py).
        ctx.record_command(record)
        if not (isinstance(stage, CommandStage) and stage.skip_reason is not None):
            observer.stage_started(ctx.manifest, record)
        if isinstance(stage, SubpipelineStage):
            record = _run_child(ctx, stage, record)
        elif stage.skip_reason is not None:
            record = _skip(ctx, stage, record)
        else:
            record = run_command_stage(ctx, stage, record)
        ctx.record_command(record)
        observer.stage_finished(ctx.manifest, record)
        if record.status is CommandStatus.FAILED:
            return


def _skip(ctx: RunContext, stage: CommandStage, record: CommandRecord) -> CommandRecord:
    """A stage the pipeline marks as not applicable: recorded, not run."""
    log_path = ctx.paths.command_log(record.index, stage.id)
    ctx.events.open_command(log_path)
    ctx.events.event("command:start", record.index, id=stage.id, command=None)
    ctx.events.event(
        "command:end", record.index, exit_code=None, signal=None, duration_ms=0, status="skipped"
    )
    ctx.events.close_command()
    return dataclasses.replace(
        record,
        status=CommandStatus.SKIPPED,
        completed_at=now_iso(),
        command=None,
        summary=stage.skip_reason,
        log_path=ctx.paths.relative(log_path),
        duration_ms=0,
    )


def _run_child(ctx: RunContext, stage: SubpipelineStage, record: CommandRecord) -> CommandRecord:
    """Run a subpipeline as a child run (resuming the earlier child when there is one)."""
    from codex_orchestrator.engine.resume import resume_child

    settings = ctx.settings
    child_pipeline = settings.config.pipelines.get(stage.pipeline)
    if child_pipeline is None:
        raise ConfigError(f"subpipeline {stage.pipeline!r} of stage {stage.id!r} is not defined")
    ctx.events.event(
        "command:start", record.index, id=stage.id, command=None, pipeline=stage.pipeline
    )
    started = time.monotonic()
    if record.sub_run_id:
        child = resume_child(ctx, child_pipeline, record.sub_run_id)
    else:
        child = start_run(
            settings,
            child_pipeline,
            ctx.paths.task_id,
            parent_run_id=ctx.manifest.run_id,
            parent=ctx,
        )
    child_manifest = child.manifest
    duration_ms = int((time.monotonic() - started) * 1000)
    if child_manifest.status is RunStatus.SUCCEEDED:
        status = CommandStatus.SUCCEEDED
    elif stage.optional and child_manifest.status is not RunStatus.CANCELLED:
        status = CommandStatus.SKIPPED
    else:
        status = CommandStatus.FAILED
    ctx.record_child(child.as_child())
    ctx.events.event(
        "command:end",
        record.index,
        exit_code=None,
        signal=None,
        duration_ms=duration_ms,
        status=str(status),
        sub_run_id=child_manifest.run_id,
        resources=child_manifest.resources.to_dict() if child_manifest.resources else None,
    )
    return dataclasses.replace(
        record,
        command=None,
        kind=StageKind.SUBPIPELINE,
        status=status,
        completed_at=now_iso(),
        summary=f"Sub-pipeline '{stage.pipeline}' {child_manifest.status}",
        sub_run_id=child_manifest.run_id,
        duration_ms=duration_ms,
        resources=child_manifest.resources,
    )


def attach_to_parent(parent_paths: RunPaths, child: RunResult) -> None:
    """Record a finished ``start --parent-run`` child in its parent's manifest."""
    parent = read_manifest(parent_paths.manifest)
    write_manifest(
        parent_paths.manifest, parent.with_child(child.as_child()).replace(updated_at=now_iso())
    )
