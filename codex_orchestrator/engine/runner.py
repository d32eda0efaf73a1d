"""The run driver: create the run, run its stages, then hand it to ``finalize``.

Every way a run ends goes through engine/finalize.py: success, failure, a cancel
signal, or an internal error (recorded with a crash log). Subpipelines are child runs
driven by the same functions, in this process, under the same cancel watch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import time
import traceback
from collections.abc import Mapping

from codex_orchestrator.engine.context import RunContext, RunSettings
from codex_orchestrator.engine.executor import PreparesRuns
from codex_orchestrator.engine.finalize import finalize, record_abort
from codex_orchestrator.engine.leftovers import end_recorded
from codex_orchestrator.engine.loop import StageLoop
from codex_orchestrator.engine.opening import (
    open_new_run,
    pipeline_for_resume,
    reopen_run,
)
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.runlock import hold_run_lock
from codex_orchestrator.errors import ConfigError, InternalError, OrchestratorError
from codex_orchestrator.model import (
    CommandRecord,
    CommandStatus,
    Pipeline,
    ResumeEvent,
    RunStatus,
    StageKind,
    SubpipelineStage,
    now_iso,
)
from codex_orchestrator.store.layout import RunPaths, new_run_id
from codex_orchestrator.store.manifest import read_manifest, write_manifest
from codex_orchestrator.store.rundir import create_run_dir

__all__ = ["attach_to_parent", "drive", "hold_run_lock", "resume_child", "start_run"]


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
        ctx = open_new_run(settings, paths, pipeline, parent_run_id, parent, recorded)
        return drive(ctx, pipeline)


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
        child_pipeline = pipeline_for_resume(settings.config, manifest, pipeline)
        ended = end_recorded(manifest, paths.run_dir)
        ctx = reopen_run(settings, paths, manifest, event, child_pipeline, parent, ended)
        return drive(ctx, child_pipeline)


def drive(ctx: RunContext, pipeline: Pipeline) -> RunResult:
    """Run every stage that has not succeeded or been skipped, then finalize."""
    observer = ctx.settings.observer
    observer.run_started(ctx.manifest)
    try:
        ctx.heartbeat()
        ctx.writer.flush()
        if isinstance(ctx.settings.executor, PreparesRuns):
            ctx.settings.executor.prepare_run(ctx.paths)
        # What lives now (the config, the run's context) lives as long as the run: the
        # cycle collector need not walk it again at each full collection (one took
        # 20 ms of a 2,000-stage run). Only in the CLI's process, which ends with its
        # run and froze its start-up already (cli/entry.py); a program driving runs
        # in-process (the tests) keeps its collector as it set it.
        if gc.get_freeze_count():
            gc.freeze()
        StageLoop(ctx, pipeline, _run_child).run()
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


def _run_child(ctx: RunContext, stage: SubpipelineStage, record: CommandRecord) -> CommandRecord:
    """Run a subpipeline as a child run (resuming the earlier child when there is one)."""
    settings = ctx.settings
    child_pipeline = settings.config.pipelines.get(stage.pipeline)
    if child_pipeline is None:
        raise ConfigError(f"subpipeline {stage.pipeline!r} of stage {stage.id!r} is not defined")
    log = ctx.events.open_command(None, record.index)
    log.event("command:start", id=stage.id, command=None, pipeline=stage.pipeline)
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
    log.event(
        "command:end",
        exit_code=None,
        signal=None,
        duration_ms=duration_ms,
        status=str(status),
        sub_run_id=child_manifest.run_id,
        resources=child_manifest.resources.to_dict() if child_manifest.resources else None,
    )
    log.close()
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
