"""Running one command stage: environment, process, events, record, error file."""

from __future__ import annotations

import dataclasses
import os

from codex_orchestrator import __version__
from codex_orchestrator.artifacts.stagekeep import WORKSPACE_ENV, StageArtifacts
from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.keeping import open_stage
from codex_orchestrator.engine.leftovers import StageSession
from codex_orchestrator.engine.lines import Run
from codex_orchestrator.engine.process import ProcessOutcome, ProcessRequest, run_process
from codex_orchestrator.model import (
    CommandRecord,
    CommandStage,
    CommandStatus,
    ErrorReason,
    now_iso,
)
from codex_orchestrator.store.events import encode_output_lines
from codex_orchestrator.store.evidence import ErrorReport, write_error_file

SHELL = "/bin/sh"
SUMMARY_CHARS = 240


class _Sink:
    """Writes each batch of output to the run's event files as it is read."""

    def __init__(self, ctx: RunContext, index: int, kept: StageArtifacts) -> None:
        self.ctx = ctx
        self.index = index
        self.kept = kept
        self.seq = 1
        self.observer = ctx.settings.observer if ctx.settings.observer.wants_output else None

    def on_bytes(self, stream: str, data: bytes) -> None:
        self.kept.write(data)

    def on_output(self, stream: str, runs: list[Run]) -> None:
        timestamp = now_iso()
        batch = []
        for pieces, partial in runs:
            batch.append(
                encode_output_lines(stream, self.index, self.seq, pieces, partial, timestamp)
            )
            self.seq += len(pieces)
        self.ctx.events.write(b"".join(batch) if len(batch) > 1 else batch[0])
        if self.observer is not None:
            for pieces, _ in runs:
                for raw in pieces:
                    self.observer.output(self.index, stream, raw.decode("utf-8", "replace"))

    def on_tick(self) -> None:
        self.ctx.tick()

    def on_spawn(self, session: StageSession) -> None:
        """Journal the stage's session first (a runner killed now loses nothing), then
        put it in the manifest with the next write."""
        self.ctx.events.event("command:session", self.index, **session.to_dict())
        record = self.ctx.manifest.command(self.index)
        self.ctx.update(
            self.ctx.manifest.with_command(
                dataclasses.replace(record, process_group=session.to_dict())
            )
        )


def stage_environment(ctx: RunContext, stage: CommandStage) -> dict[str, str]:
    """The process environment: ours, then the stage's ``env``, then the run's variables."""
    paths = ctx.paths
    manifest = ctx.manifest
    env = dict(os.environ)
    env.update(stage.env)
    env.update(
        {
            "CODEX_ORCHESTRATOR_TASK_ID": manifest.task_id,
            "CODEX_ORCHESTRATOR_RUN_ID": manifest.run_id,
            "CODEX_ORCHESTRATOR_PIPELINE_ID": manifest.pipeline_id,
            "CODEX_ORCHESTRATOR_MANIFEST_PATH": str(paths.manifest),
            "CODEX_ORCHESTRATOR_RUN_DIR": str(paths.run_dir),
            "CODEX_ORCHESTRATOR_RUNS_DIR": str(ctx.settings.layout.runs_dir),
            "CODEX_ORCHESTRATOR_ROOT": str(ctx.settings.layout.root),
            "CODEX_ORCHESTRATOR_STAGE_ID": stage.id,
            "CODEX_ORCHESTRATOR_VERSION": __version__,
        }
    )
    return env


def run_command_stage(ctx: RunContext, stage: CommandStage, record: CommandRecord) -> CommandRecord:
    """Run ``stage``; return its finished record (the manifest is updated by the caller)."""
    paths = ctx.paths
    log_path = paths.command_log(record.index, stage.id)
    ctx.events.open_command(log_path)
    shown = ctx.settings.masked(stage.command)
    ctx.events.event("command:start", record.index, id=stage.id, command=shown)
    timeout_ms = stage.timeout_ms or ctx.settings.stage_timeout_ms
    cwd = ctx.settings.layout.root / stage.cwd if stage.cwd else ctx.settings.layout.root
    kept = open_stage(ctx, record)
    env = stage_environment(ctx, stage)
    env[WORKSPACE_ENV] = str(kept.workspace)
    request = ProcessRequest(
        argv=stage.argv or (SHELL, "-c", stage.command),
        cwd=cwd,
        env=env,
        timeout_seconds=timeout_ms / 1000 if timeout_ms else None,
        mask=ctx.settings.mask,
    )
    cancel = ctx.settings.cancel
    outcome = run_process(
        request,
        _Sink(ctx, record.index, kept),
        cancel_requested=lambda: cancel.requested,
        wakeup_fd=cancel.read_fd,
    )
    status, reason = _classify(stage, outcome)
    ctx.events.event(
        "command:end",
        record.index,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        duration_ms=outcome.duration_ms,
        status=str(status),
        resources=outcome.resources.to_dict(),
        ended_processes=list(outcome.ended_processes),
    )
    ctx.events.close_command()
    error_file = None
    if reason is not None:
        error_path = paths.error_file(record.index, stage.id)
        write_error_file(error_path, _report(ctx, stage, record.index, reason, outcome))
        error_file = paths.relative(error_path)
    finished = dataclasses.replace(
        record,
        command=shown,
        status=status,
        completed_at=now_iso(),
        exit_code=outcome.exit_code,
        summary=_summary(stage, outcome, timeout_ms) + _ended_note(outcome),
        log_path=paths.relative(log_path),
        error_file=error_file,
        sub_run_id=None,
        signal=outcome.signal,
        duration_ms=outcome.duration_ms,
        resources=outcome.resources,
        ended_processes=outcome.ended_processes,
    )
    # Kept whatever the outcome: a failed or timed-out stage's files matter most.
    kept.finish(finished, ctx.manifest.run_id, cwd, stage.artifacts)
    return finished


def _ended_note(outcome: ProcessOutcome) -> str:
    """`` (ended 2 leftover processes: sleep, nc)`` when the stage left some behind."""
    ended = outcome.ended_processes
    if not ended:
        return ""
    names = ", ".join(str(p.get("name") or p.get("pid")) for p in ended)
    plural = "process" if len(ended) == 1 else "processes"
    return f" (ended {len(ended)} leftover {plural}: {names})"


def _classify(
    stage: CommandStage, outcome: ProcessOutcome
) -> tuple[CommandStatus, ErrorReason | None]:
    if outcome.cancelled:
        return CommandStatus.FAILED, ErrorReason.CANCELLED
    if outcome.spawn_error is not None:
        return CommandStatus.FAILED, ErrorReason.SPAWN_ERROR
    if outcome.exit_code == 0 and not outcome.timed_out:
        return CommandStatus.SUCCEEDED, None
    if stage.allow_failure:
        return CommandStatus.SKIPPED, ErrorReason.COMMAND_ALLOW_FAILURE
    if outcome.timed_out:
        return CommandStatus.FAILED, ErrorReason.COMMAND_TIMEOUT
    return CommandStatus.FAILED, ErrorReason.COMMAND_FAILED


def _report(
    ctx: RunContext, stage: CommandStage, index: int, reason: ErrorReason, outcome: ProcessOutcome
) -> ErrorReport:
    return ErrorReport(
        run_id=ctx.manifest.run_id,
        task_id=ctx.manifest.task_id,
        command_index=index,
        command_id=stage.id,
        command=ctx.settings.masked(stage.command),
        reason=reason,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        duration_ms=outcome.duration_ms,
        stdout_tail=outcome.stdout_tail,
        stderr_tail=outcome.stderr_tail,
        stdout_truncated=outcome.stdout_truncated,
        stderr_truncated=outcome.stderr_truncated,
        message=outcome.spawn_error,
    )


def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            stripped = line.strip()
            return stripped if len(stripped) <= SUMMARY_CHARS else stripped[:SUMMARY_CHARS] + "…"
    return ""


def _summary(stage: CommandStage, outcome: ProcessOutcome, timeout_ms: int | None) -> str:
    """One line a reviewer reads first, in the TypeScript tool's wording."""
    stderr = _last_line(outcome.stderr_tail)
    suffix = f" — {stderr}" if stderr else ""
    if outcome.spawn_error is not None:
        return f"Could not start: {outcome.spawn_error}"
    if outcome.cancelled:
        if outcome.signal is None and outcome.exit_code is not None:
            # The command handled the signal and exited on its own.
            return f"Cancelled (exited with code {outcome.exit_code}){suffix}"
        return f"Cancelled (terminated with signal {outcome.signal or 'unknown'}){suffix}"
    if outcome.timed_out:
        return f"Timed out after {timeout_ms}ms{suffix}"
    if outcome.signal:
        return f"Terminated with signal {outcome.signal}{suffix}"
    if outcome.exit_code != 0:
        return f"Exited with code {outcome.exit_code}{suffix}"
    if stage.summary_hint:
        return stage.summary_hint
    return _last_line(outcome.stdout_tail) or stderr or "Command completed with code 0"
