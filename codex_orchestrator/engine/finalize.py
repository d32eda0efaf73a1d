"""How every run ends: its final status and summary, the last event, the metrics line.

Success, failure and a cancel signal go through ``finalize``; an error that stops the
driver goes through ``record_abort``, which leaves the last good manifest if the disk
refuses even that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys

from codex_orchestrator.engine import guardrails
from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.keeping import apply_retention_after, collect_run_end
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.sealing import seal_run_end
from codex_orchestrator.engine.storing import store_at_run_end
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import (
    CommandStatus,
    Pipeline,
    Resources,
    RunStatus,
    SubpipelineStage,
    now_iso,
)
from codex_orchestrator.store.metrics import append_metrics, metrics_entry

CANCELLED_DETAIL = "run-canceled"


def record_abort(ctx: RunContext, detail: str) -> None:
    """Best effort after an error: mark the run failed and leave the last good manifest."""
    manifest = ctx.manifest
    commands = tuple(
        dataclasses.replace(c, status=CommandStatus.FAILED, completed_at=now_iso(), summary=detail)
        if c.status is CommandStatus.RUNNING
        else c
        for c in manifest.commands
    )
    aborted = manifest.replace(
        status=RunStatus.FAILED,
        status_detail=detail,
        completed_at=now_iso(),
        commands=commands,
        summary=detail,
    )
    with contextlib.suppress(OrchestratorError, OSError):
        ctx.update(aborted, force=True)
        counts = guardrails.count_guardrails(aborted.commands)
        append_metrics(
            ctx.settings.layout.metrics_file(aborted.task_id),
            metrics_entry(aborted, counts.present),
        )
        ctx.update(ctx.manifest.replace(metrics_recorded=True), force=True)


def finalize(ctx: RunContext, pipeline: Pipeline) -> RunResult:
    """Decide the final status, write the summary, the last events and the metrics line."""
    manifest = ctx.manifest
    cancel = ctx.settings.cancel
    commands = manifest.commands
    failed = [c for c in commands if c.status is CommandStatus.FAILED]
    unfinished = [c for c in commands if c.status in (CommandStatus.PENDING, CommandStatus.RUNNING)]
    lines: list[str] = []
    if cancel.requested and (failed or unfinished):
        status, detail = RunStatus.CANCELLED, CANCELLED_DETAIL
        lines.append(f"Run cancelled by {cancel.signal_name}.")
    elif failed or unfinished:
        status = RunStatus.FAILED
        first = failed[0] if failed else unfinished[0]
        stage = pipeline.stages[first.index - 1]
        if isinstance(stage, SubpipelineStage):
            detail = f"subpipeline:{stage.pipeline}:failed"
            lines.append(f"Sub-pipeline '{stage.pipeline}' failed.")
        else:
            detail = f"stage:{first.id}:failed"
            if first.exit_code is not None:
                lines.append(f"Stage '{first.title}' failed with exit code {first.exit_code}.")
            else:
                lines.append(f"Stage '{first.title}' failed: {first.summary or 'not finished'}.")
    else:
        status, detail = RunStatus.SUCCEEDED, None
    counts = guardrails.count_guardrails(commands)
    lines.extend(guardrails.guardrail_lines(counts, pipeline.requires_guardrails))
    total = Resources()
    for record in commands:
        total = total.combine(record.resources)
    completed = now_iso()
    manifest = manifest.replace(
        status=status,
        status_detail=detail,
        completed_at=completed,
        heartbeat_at=completed,
        summary="\n".join(lines),
        resources=total,
    )
    manifest, warnings = collect_run_end(ctx, manifest)
    # Committed while the kept files are plaintext; sealing removes them afterwards.
    manifest, stored = store_at_run_end(ctx, pipeline, manifest)  # may fail the run
    warnings += stored
    manifest, seal_warnings = seal_run_end(ctx, manifest)
    warnings += seal_warnings
    ctx.update(manifest, force=True)
    ctx.events.event("run:end", status=str(manifest.status), status_detail=manifest.status_detail)
    append_metrics(
        ctx.settings.layout.metrics_file(manifest.task_id), metrics_entry(manifest, counts.present)
    )
    ctx.update(ctx.manifest.replace(metrics_recorded=True), force=True)
    warnings += apply_retention_after(ctx)
    for warning in warnings:
        sys.stderr.write(f"codex-orchestrator: warning: {warning}\n")
    if ctx.parent is None:  # a child run is part of its parent's reports
        from codex_orchestrator.report.after_run import write_run_reports

        write_run_reports(ctx.settings.layout, ctx.paths, ctx.settings.config.reports)
    return RunResult(manifest=ctx.manifest, paths=ctx.paths)
