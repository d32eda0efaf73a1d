"""One command stage: its environment, its output as events, its record, its error file.

The executor (engine/executor.py) ships bytes; this side splits them into lines,
keeps the tails and writes the events, whatever executor ran the command.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from codex_orchestrator import __version__
from codex_orchestrator.artifacts.stagekeep import WORKSPACE_ENV, StageArtifacts
from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.executor import (
    STDERR,
    STDOUT,
    CancelSignal,
    CommandOutcome,
    CommandRequest,
    Executor,
)
from codex_orchestrator.engine.keeping import open_stage, produced_paths, remember_kept
from codex_orchestrator.engine.leftovers import StageSession
from codex_orchestrator.engine.lines import LineSplitter, Run, Tail
from codex_orchestrator.engine.masking import Masker
from codex_orchestrator.engine.prepare import Prepared
from codex_orchestrator.model import (
    CommandRecord,
    CommandStage,
    CommandStatus,
    ErrorReason,
    now_iso,
)
from codex_orchestrator.store.events import CommandLog, encode_output_lines
from codex_orchestrator.store.evidence import ErrorReport, write_error_file

SHELL = "/bin/sh"
SUMMARY_CHARS = 240


# Output events encoded and written together at most (about 100 bytes each).
MAX_EVENTS_PER_WRITE = 4096


class StageSink:
    """The stage side of an executor's output: lines, tails, events, the live view.

    Called by the executor (one call at a time, see engine/executor.py): each batch of
    bytes is split into lines and written as events before the call returns, so a
    runner killed with SIGKILL loses no line it had read.
    """

    def __init__(self, ctx: RunContext, log: CommandLog, kept: StageArtifacts) -> None:
        self.log = log
        self.kept = kept
        self.index = log.index
        self.seq = 1
        self.splitters = {STDOUT: LineSplitter(), STDERR: LineSplitter()}
        self.tails = {STDOUT: Tail(), STDERR: Tail()}
        # Secret values become *** before the bytes go anywhere (tails, events, views).
        self.maskers = {name: Masker(ctx.settings.mask) for name in self.tails}
        self.observer = ctx.settings.observer if ctx.settings.observer.wants_output else None
        self.session: StageSession | None = None
        # Called by the local executor once the command runs and is being waited for
        # (the loop's preparer starts making files then).
        self.on_started: Callable[[], None] | None = None
        # Called often while the command runs, when it runs on the driver thread.
        self.on_tick: Callable[[], None] | None = None

    def on_spawn(self, session: StageSession) -> None:
        """The leader started: journal its session at once (on the stage's thread, so
        the manifest is left to the driver; readers merge this event into
        ``commands[].process_group``)."""
        self.log.event("command:session", **session.to_dict())
        self.session = session

    def write(self, stream: str, data: bytes) -> None:
        """Bytes from ``stream``: mask them, remember the tail, write the completed lines."""
        data = self.maskers[stream].feed(data)
        self.tails[stream].feed(data)
        self.kept.write(data)
        splitter = self.splitters[stream]
        runs = splitter.feed(data)
        if runs:
            self._emit(stream, runs, splitter.plain)

    def close(self) -> None:
        """The output ended: write what the masker held back and no newline ended."""
        for stream, splitter in self.splitters.items():
            rest = self.maskers[stream].close()
            self.tails[stream].feed(rest)
            self.kept.write(rest)
            runs = splitter.feed(rest)
            plain = splitter.plain
            runs += splitter.close()
            if runs:
                self._emit(stream, runs, plain and splitter.plain)

    def _emit(self, stream: str, runs: list[Run], plain: bool) -> None:
        """Write the events of ``runs``; ``plain``: every piece is :func:`is_plain`."""
        timestamp = now_iso()
        batch: list[bytes] = []
        held = 0  # events in batch
        for pieces, partial in runs:
            # A read of short lines makes thousands of events; written at most
            # MAX_EVENTS_PER_WRITE at a time, the encoded bytes held stay small.
            for start in range(0, len(pieces), MAX_EVENTS_PER_WRITE):
                piece_slice = pieces[start : start + MAX_EVENTS_PER_WRITE]
                if batch and held + len(piece_slice) > MAX_EVENTS_PER_WRITE:
                    self.log.write(b"".join(batch))
                    batch, held = [], 0
                batch.append(
                    encode_output_lines(
                        stream, self.index, self.seq, piece_slice, partial, timestamp, plain
                    )
                )
                held += len(piece_slice)
                self.seq += len(piece_slice)
        self.log.write(b"".join(batch) if len(batch) > 1 else batch[0])
        if self.observer is not None:
            for pieces, _ in runs:
                for raw in pieces:
                    self.observer.output(self.index, stream, raw.decode("utf-8", "replace"))


@dataclass(frozen=True, slots=True, kw_only=True)
class StageOutput:
    """What the stage side kept of a finished command's output."""

    stdout_tail: str
    stderr_tail: str
    stdout_truncated: bool
    stderr_truncated: bool


class CommandJob:
    """One command stage in flight: prepared on the driver thread, run on a stage
    thread (or on the driver thread, when nothing can run beside it)."""

    def __init__(
        self,
        ctx: RunContext,
        stage: CommandStage,
        record: CommandRecord,
        prepared: Prepared | None = None,
    ) -> None:
        paths = ctx.paths
        self.stage = stage
        self.record = record
        self.log_path = paths.command_log(record.index, stage.id)
        staged_log = prepared.command if prepared is not None else None
        self.log = ctx.events.open_command(self.log_path, record.index, staged_log)
        self.shown = ctx.settings.masked(stage.command)
        self.log.event("command:start", id=stage.id, command=self.shown)
        self.timeout_ms = stage.timeout_ms or ctx.settings.stage_timeout_ms
        self.cwd = ctx.settings.layout.root / stage.cwd if stage.cwd else ctx.settings.layout.root
        self.kept = open_stage(ctx, record, prepared.instance if prepared is not None else None)
        env = stage_environment(ctx, stage)
        env[WORKSPACE_ENV] = str(self.kept.workspace)
        self.request = CommandRequest(
            argv=stage.argv or (SHELL, "-c", stage.command),
            cwd=self.cwd,
            env=env,
            timeout_seconds=self.timeout_ms / 1000 if self.timeout_ms else None,
            stage_id=stage.id,
            index=record.index,
            resources=stage.resources,
        )
        self.sink = StageSink(ctx, self.log, self.kept)
        self.session_recorded = False

    def execute(self, executor: Executor, cancel: CancelSignal) -> CommandOutcome:
        """Run the command (on the stage's thread) and write its last partial lines."""
        outcome = executor.run(self.request, self.sink, cancel)
        self.sink.close()
        return outcome

    def output(self) -> StageOutput:
        """The tails kept for the error file and the summary."""
        tails = self.sink.tails
        return StageOutput(
            stdout_tail=tails[STDOUT].text(),
            stderr_tail=tails[STDERR].text(),
            stdout_truncated=tails[STDOUT].truncated,
            stderr_truncated=tails[STDERR].truncated,
        )

    def abandon(self) -> None:
        """Close the command's file when the run stops before the command ended."""
        self.log.close()


def stage_environment(ctx: RunContext, stage: CommandStage) -> dict[str, str]:
    """The process environment: ours, then the stage's ``env``, then the run's variables."""
    run_env = ctx.cache.get("run_env")
    if run_env is None:  # the same for every stage of the run: built once
        paths = ctx.paths
        manifest = ctx.manifest
        run_env = {
            "CODEX_ORCHESTRATOR_TASK_ID": manifest.task_id,
            "CODEX_ORCHESTRATOR_RUN_ID": manifest.run_id,
            "CODEX_ORCHESTRATOR_PIPELINE_ID": manifest.pipeline_id,
            "CODEX_ORCHESTRATOR_MANIFEST_PATH": str(paths.manifest),
            "CODEX_ORCHESTRATOR_RUN_DIR": str(paths.run_dir),
            "CODEX_ORCHESTRATOR_RUNS_DIR": str(ctx.settings.layout.runs_dir),
            "CODEX_ORCHESTRATOR_ROOT": str(ctx.settings.layout.root),
            "CODEX_ORCHESTRATOR_VERSION": __version__,
        }
        ctx.cache["run_env"] = run_env
        ctx.cache["base_env"] = {**os.environ, **run_env}
    base: dict[str, str] = ctx.cache["base_env"]
    env = {**os.environ, **stage.env, **run_env} if stage.env else dict(base)
    env["CODEX_ORCHESTRATOR_STAGE_ID"] = stage.id
    return env


def finish_command_stage(
    ctx: RunContext,
    job: CommandJob,
    outcome: CommandOutcome,
    keep_later: list[Callable[[], None]] | None = None,
) -> CommandRecord:
    """Record how ``job`` ended (on the driver thread): event, error file, record.

    Its files are kept now; or, given ``keep_later`` and a stage that left its
    workspace empty and keeps nothing else (no glob or registry path, which would read
    files a later stage may change), what remains (its ``metadata.json``) is added to
    ``keep_later``, for the caller to write while the next command runs. A runner
    killed before then leaves the instance without it, and collecting the run (at the
    end of ``resume``, or ``artifacts collect``) writes it.
    """
    paths = ctx.paths
    stage, record, timeout_ms = job.stage, job.record, job.timeout_ms
    output = job.output()
    status, reason = _classify(stage, outcome)
    job.log.event(
        "command:end",
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        duration_ms=outcome.duration_ms,
        status=str(status),
        resources=outcome.resources.to_dict(),
        ended_processes=list(outcome.ended_processes),
        **({"worker": outcome.worker} if outcome.worker is not None else {}),
    )
    job.log.close()
    error_file = None
    if reason is not None:
        error_path = paths.error_file(record.index, stage.id)
        report = _report(ctx, stage, record.index, reason, outcome, output)
        write_error_file(error_path, report)
        error_file = paths.relative(error_path)
    finished = dataclasses.replace(
        record,
        command=job.shown,
        status=status,
        completed_at=now_iso(),
        exit_code=outcome.exit_code,
        summary=_summary(stage, outcome, output, timeout_ms) + _ended_note(outcome),
        log_path=paths.relative(job.log_path),
        error_file=error_file,
        sub_run_id=None,
        signal=outcome.signal,
        duration_ms=outcome.duration_ms,
        resources=outcome.resources,
        ended_processes=outcome.ended_processes,
        worker=outcome.worker,
    )
    produced = produced_paths(ctx, stage)

    def keep() -> None:
        # Kept whatever the outcome: a failed or timed-out stage's files matter most.
        job.kept.finish(
            finished,
            ctx.manifest.run_id,
            job.cwd,
            stage.artifacts,
            produced,
            ctx.settings.layout.root,
        )
        remember_kept(ctx, job.kept)

    if (
        keep_later is not None
        and not stage.artifacts
        and not produced
        and job.kept.nothing_written()
    ):
        keep_later.append(keep)
    else:
        keep()
    return finished


def _ended_note(outcome: CommandOutcome) -> str:
    """`` (ended 2 leftover processes: sleep, nc)`` when the stage left some behind."""
    ended = outcome.ended_processes
    if not ended:
        return ""
    names = ", ".join(str(p.get("name") or p.get("pid")) for p in ended)
    plural = "process" if len(ended) == 1 else "processes"
    return f" (ended {len(ended)} leftover {plural}: {names})"


def _classify(
    stage: CommandStage, outcome: CommandOutcome
) -> tuple[CommandStatus, ErrorReason | None]:
    if outcome.cancelled:
        return CommandStatus.FAILED, ErrorReason.CANCELLED
    if outcome.worker_lost:
        # Not the command's failure, so never excused by allowFailure: resume runs it.
        return CommandStatus.FAILED, ErrorReason.WORKER_LOST
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
    ctx: RunContext,
    stage: CommandStage,
    index: int,
    reason: ErrorReason,
    outcome: CommandOutcome,
    output: StageOutput,
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
        stdout_tail=output.stdout_tail,
        stderr_tail=output.stderr_tail,
        stdout_truncated=output.stdout_truncated,
        stderr_truncated=output.stderr_truncated,
        message=outcome.spawn_error,
    )


def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            stripped = line.strip()
            return stripped if len(stripped) <= SUMMARY_CHARS else stripped[:SUMMARY_CHARS] + "…"
    return ""


def _summary(
    stage: CommandStage, outcome: CommandOutcome, output: StageOutput, timeout_ms: int | None
) -> str:
    """One line a reviewer reads first, in the TypeScript tool's wording."""
    stderr = _last_line(output.stderr_tail)
    suffix = f" — {stderr}" if stderr else ""
    if outcome.spawn_error is not None:
        return f"Could not start: {outcome.spawn_error}"
    if outcome.cancelled:
        if outcome.signal is None and outcome.exit_code is not None:
            # The command handled the signal and exited on its own.
            return f"Cancelled (exited with code {outcome.exit_code}){suffix}"
        return f"Cancelled (terminated with signal {outcome.signal or 'unknown'}){suffix}"
    if outcome.worker_lost:
        return f"Worker lost: {outcome.worker or 'unknown'} left the cluster before the stage ended"
    if outcome.timed_out:
        return f"Timed out after {timeout_ms}ms{suffix}"
    if outcome.signal:
        return f"Terminated with signal {outcome.signal}{suffix}"
    if outcome.exit_code != 0:
        return f"Exited with code {outcome.exit_code}{suffix}"
    if stage.summary_hint:
        return stage.summary_hint
    return _last_line(output.stdout_tail) or stderr or "Command completed with code 0"
