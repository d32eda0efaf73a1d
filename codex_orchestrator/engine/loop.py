"""The stage loop: ask the scheduler what runs next, run it, record how it ended.

Runs on the driver thread, the only one that updates the manifest. In a graph, each
command stage runs on a thread of its own through the executor (up to ``jobs`` at
once); its output reaches the event files from that thread. Where no stage can run
beside another (a pipeline without ``needs``, or ``--jobs 1``, on the local executor),
the driver thread supervises the command itself and keeps the heartbeat going from
that loop. Subpipeline stages (child runs) and skipped stages are handled on the
driver thread.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable

from codex_orchestrator.engine.artifact_watch import ArtifactWatch
from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.executor import CommandOutcome
from codex_orchestrator.engine.graph import stage_graph
from codex_orchestrator.engine.keeping import staging_order
from codex_orchestrator.engine.prepare import Order, Preparer
from codex_orchestrator.engine.process import LocalExecutor
from codex_orchestrator.engine.scheduler import Action, Outcome, Ready, Scheduler
from codex_orchestrator.engine.stage import CommandJob, finish_command_stage
from codex_orchestrator.model import (
    CommandRecord,
    CommandStage,
    CommandStatus,
    Pipeline,
    Stage,
    SubpipelineStage,
    now_iso,
)
from codex_orchestrator.model.pipeline import GATE_PREFIX

# The driver wakes at least this often while stages run: heartbeats, coalesced writes.
TICK_SECONDS = 0.5
# Stages made ahead beyond those that may run at once (each costs a few empty files).
MAX_LOOKAHEAD = 4

ChildRunner = Callable[[RunContext, SubpipelineStage, CommandRecord], CommandRecord]
_Done = tuple[str, CommandOutcome | BaseException]

_OUTCOMES = {
    CommandStatus.SUCCEEDED: Outcome.SUCCEEDED,
    CommandStatus.SKIPPED: Outcome.SKIPPED,
    CommandStatus.FAILED: Outcome.FAILED,
}


class StageLoop:
    """Drives one run's stages to the end (or to a stop)."""

    def __init__(self, ctx: RunContext, pipeline: Pipeline, run_child: ChildRunner) -> None:
        self.ctx = ctx
        self.run_child = run_child
        self.stages: dict[str, Stage] = {stage.id: stage for stage in pipeline.stages}
        self.indexes = {stage.id: i for i, stage in enumerate(pipeline.stages, start=1)}
        graph = stage_graph(pipeline)
        self.graph_run = not graph.linear
        finished = {
            record.id: _OUTCOMES[record.status]
            for record in ctx.manifest.commands
            if record.status in (CommandStatus.SUCCEEDED, CommandStatus.SKIPPED)
        }
        settings = ctx.settings
        self.scheduler = Scheduler(
            graph.nodes, finished=finished, stop_on_failure=graph.linear or settings.fail_fast
        )
        self.jobs = max(1, settings.jobs or pipeline.jobs or os.cpu_count() or 1)
        self.recorded_blocked: set[str] = set()
        self.watch = ArtifactWatch(ctx, pipeline, self.scheduler)
        self.running: dict[str, CommandJob] = {}
        self.done: queue.Queue[_Done] = queue.Queue()
        self.workers = _Workers(self._work)
        # A linear pipeline (or --jobs 1) on the local executor runs each command on
        # this thread: no other stage can start while one runs.
        self.inline_since = 0.0
        self.inline = (graph.linear or self.jobs == 1) and isinstance(
            settings.executor, LocalExecutor
        )
        # Command stages in the order they are likely to start, whose files the
        # preparer makes ahead while earlier stages run (engine/prepare.py).
        self.preparer = Preparer(threaded=not self.inline)
        # What remains of keeping finished stages (their metadata.json, the workspace
        # being empty), done while the next command runs (inline only: the driver has
        # nothing else to do then).
        self.keep_later: list[Callable[[], None]] = []
        self.lookahead = min(self.jobs, MAX_LOOKAHEAD) + 1
        self.upcoming = collections.deque(
            stage.id
            for stage in pipeline.stages
            if isinstance(stage, CommandStage)
            and stage.skip_reason is None
            and stage.id not in finished
        )

    def run(self) -> None:
        """Run until nothing more can start and nothing runs."""
        cancel = self.ctx.settings.cancel
        try:
            self.watch.start()
            while True:
                if cancel.requested:
                    self.scheduler.stop()
                progressed = self._launch_ready()
                if not self.scheduler.running:
                    if progressed:
                        continue
                    break
                self._wait()
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                self._keep_pending()
            raise
        else:
            self._keep_pending()
        finally:
            self._abandon_running()
            self.workers.close()
            self.preparer.close()

    def _launch_ready(self) -> bool:
        progressed = False
        ready_now = self.scheduler.ready()
        self._record_blocked()
        for ready in ready_now:
            if self.ctx.settings.cancel.requested:
                break
            stage = self.stages[ready.id]
            if ready.action is Action.RUN and not _inline(stage) and self._full():
                continue
            self.scheduler.start(ready.id)
            self._start(stage, ready)
            progressed = True
        return progressed

    def _record_blocked(self) -> None:
        """Stages the scheduler blocked stay pending, saying what blocks them."""
        ctx = self.ctx
        for stage_id, blockers in self.scheduler.blocked.items():
            if stage_id in self.recorded_blocked:
                continue
            self.recorded_blocked.add(stage_id)
            record = dataclasses.replace(
                ctx.manifest.command(self.indexes[stage_id]),
                status=CommandStatus.PENDING,
                blocked_by=blockers,
                summary=blocked_summary(blockers),
            )
            ctx.record_command(record)
            ctx.settings.observer.stage_finished(ctx.manifest, record)

    def _full(self) -> bool:
        return len(self.running) >= self.jobs

    def _start(self, stage: Stage, ready: Ready) -> None:
        ctx = self.ctx
        record = dataclasses.replace(
            ctx.manifest.command(self.indexes[stage.id]),
            status=CommandStatus.RUNNING,
            started_at=now_iso(),
            completed_at=None,
            exit_code=None,
            summary=None,
            error_file=None,
            signal=None,
            duration_ms=None,
            resources=None,
            worker=None,
        )
        # Journaled, not forced: the manifest is rewritten at most about once a second
        # and readers merge the journal (store/journal.py).
        ctx.record_command(record)
        skip_reason = ready.reason if ready.action is Action.SKIP else None
        if isinstance(stage, CommandStage) and skip_reason is None:
            skip_reason = stage.skip_reason
        if skip_reason is None:
            ctx.settings.observer.stage_started(ctx.manifest, record)
        if skip_reason is not None:
            self._finish(_skip(ctx, stage, record, skip_reason))
        elif isinstance(stage, SubpipelineStage):
            self._keep_pending()  # a child run may take long: not left pending meanwhile
            self._finish(self.run_child(ctx, stage, record))
        else:
            job = CommandJob(ctx, stage, record, self.preparer.take(record.index))
            job.sink.on_started = self.preparer.go
            self.running[stage.id] = job
            if self.inline and len(self.running) == 1:
                # Nothing can start beside it: run it here, sparing two thread
                # hand-offs (and their waits for the GIL) per stage.
                job.sink.on_tick = self._tick
                job.sink.on_started = self._command_started
                self.inline_since = time.monotonic()
                self._work(job)
            else:
                # Asked for before the stage thread is woken: once woken, it should not
                # wait for this thread to let go of the GIL.
                self._prepare_ahead()
                self.workers.submit(job, busy=len(self.running))

    def _command_started(self) -> None:
        """A command runs on this thread and is about to be waited for: what can wait
        until it runs is done now (the next stages' files asked for, the preparer
        started, the stages before kept)."""
        self._prepare_ahead()
        self.preparer.go()
        self._keep_pending()

    def _keep_pending(self) -> None:
        while self.keep_later:
            self.keep_later.pop(0)()

    def _prepare_ahead(self) -> None:
        """Ask for the files of the next stages likely to start (never one started)."""
        preparer, upcoming = self.preparer, self.upcoming
        orders: list[Order] = []
        while upcoming and preparer.outstanding + len(orders) < self.lookahead:
            stage_id = upcoming.popleft()
            if self.scheduler.is_started(stage_id):  # running ones included
                continue
            orders.append(staging_order(self.ctx, self.indexes[stage_id], stage_id))
        preparer.ahead(orders)

    def _work(self, job: CommandJob) -> None:
        settings = self.ctx.settings
        try:
            outcome: CommandOutcome | BaseException = job.execute(
                settings.executor, settings.cancel
            )
        except BaseException as exc:
            outcome = exc
        self.done.put((job.stage.id, outcome))

    def _wait(self) -> None:
        try:
            stage_id, outcome = self.done.get(timeout=TICK_SECONDS)
        except queue.Empty:
            self._record_sessions()
            self.ctx.tick()
            return
        job = self.running.pop(stage_id)
        if isinstance(outcome, BaseException):
            job.abandon()
            raise outcome
        keep_later = self.keep_later if self.inline else None
        self._finish(finish_command_stage(self.ctx, job, outcome, keep_later))
        self.ctx.tick()

    def _tick(self) -> None:
        """While a command runs on this thread: heartbeat and pending writes; its
        session goes into the manifest once it has run for a tick, as with a stage
        thread (the journal has it from the start)."""
        if time.monotonic() - self.inline_since >= TICK_SECONDS:
            self._record_sessions()
        self.ctx.tick()

    def _record_sessions(self) -> None:
        """Put the sessions the stage threads reported into the manifest (the driver
        alone writes it; the events were journaled when the leaders started)."""
        for job in self.running.values():
            session = job.sink.session
            if session is None or job.session_recorded:
                continue
            job.session_recorded = True
            record = self.ctx.manifest.command(job.record.index)
            self.ctx.record_command(dataclasses.replace(record, process_group=session.to_dict()))

    def _finish(self, record: CommandRecord) -> None:
        ctx = self.ctx
        record = self.watch.after_stage(record)
        ctx.record_command(record)
        ctx.settings.observer.stage_finished(ctx.manifest, record)
        self.scheduler.finish(record.id, _OUTCOMES.get(record.status, Outcome.FAILED))

    def _abandon_running(self) -> None:
        """On an error: end the stages still running and wait for their threads."""
        if not self.running:
            return
        self.ctx.settings.cancel.request("abort")
        for _ in range(len(self.running)):
            self.done.get()  # each stage's thread reports once its command has ended
        for job in self.running.values():
            with contextlib.suppress(Exception):
                job.abandon()
        self.running.clear()


class _Workers:
    """The stage threads: one per stage running at once, reused from stage to stage
    (starting a thread per stage costs a thread start and its handshake each time)."""

    def __init__(self, work: Callable[[CommandJob], None]) -> None:
        self._work = work
        self._jobs: queue.SimpleQueue[CommandJob | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, job: CommandJob, *, busy: int) -> None:
        """Run ``job`` on a stage thread; ``busy`` stages (this one included) now run."""
        if len(self._threads) < busy:
            thread = threading.Thread(
                target=self._serve, name=f"stage-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            self._work(job)

    def close(self) -> None:
        """Let the stage threads end (each takes one stop mark; none is busy now)."""
        for _ in self._threads:
            self._jobs.put(None)
        self._threads.clear()


def blocked_summary(blockers: tuple[str, ...]) -> str:
    """Why a stage did not run, for its record's summary."""
    gates = [b.removeprefix(GATE_PREFIX) for b in blockers if b.startswith(GATE_PREFIX)]
    stages = [b for b in blockers if not b.startswith(GATE_PREFIX)]
    parts = []
    if stages:
        parts.append("needs " + ", ".join(stages) + " did not succeed")
    if gates:
        parts.append("gate " + ", ".join(gates) + " blocks it")
    return "Blocked: " + "; ".join(parts) + " (resume runs it)"


def _inline(stage: Stage) -> bool:
    """Stages handled on the driver thread, not counted against ``jobs``."""
    return isinstance(stage, SubpipelineStage) or stage.skip_reason is not None


def _skip(ctx: RunContext, stage: Stage, record: CommandRecord, reason: str) -> CommandRecord:
    """A stage not to run: recorded as skipped with ``reason`` as its summary."""
    log_path = ctx.paths.command_log(record.index, stage.id)
    log = ctx.events.open_command(log_path, record.index)
    log.event("command:start", id=stage.id, command=None)
    log.event("command:end", exit_code=None, signal=None, duration_ms=0, status="skipped")
    log.close()
    return dataclasses.replace(
        record,
        status=CommandStatus.SKIPPED,
        completed_at=now_iso(),
        command=None,
        summary=reason,
        log_path=ctx.paths.relative(log_path),
        duration_ms=0,
    )
