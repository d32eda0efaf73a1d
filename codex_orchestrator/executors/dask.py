"""The Dask distributed executor: each command stage runs on a Dask worker.

The runner connects to a scheduler (``tcp://HOST:PORT``) or starts a local cluster of
worker processes for the run. For each stage it creates a bounded output queue on the
scheduler, submits :func:`~codex_orchestrator.executors.dask_job.run_on_worker`, and
while the stage runs hands every chunk the worker puts on the queue to the stage's
sink: the stage side splits lines and writes the same events, files and tails as for
a local process. See engine/executor.py for the contract.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codex_orchestrator.engine.executor import (
    CancelSignal,
    CommandOutcome,
    CommandRequest,
    OutputSink,
)
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.executors.dask_cluster import DaskSettings, LocalRun, connect
from codex_orchestrator.executors.dask_job import (
    END,
    OUTPUT,
    START,
    WorkerJob,
    WorkerReply,
    end_stage_processes,
    read_probe,
    run_on_worker,
)
from codex_orchestrator.executors.dask_reader import QueueReader, overlay
from codex_orchestrator.model import Resources
from codex_orchestrator.store.layout import RunPaths
from codex_orchestrator.store.probe import shared_probe

if TYPE_CHECKING:
    from distributed import Client

TICK_SECONDS = 0.25
RESULT_TIMEOUT_SECONDS = 30.0
# Output chunks (each one read of at most 256 KiB) waiting on the scheduler per stage.
QUEUE_ITEMS = 16
WORKERS_REFRESH_SECONDS = 1.0
PREFIX = "codex-orchestrator"


class ClusterUnusable(OrchestratorError):
    """The cluster's workers cannot run this run's stages (no shared filesystem)."""


@dataclass(slots=True, kw_only=True)
class _Submitted:
    """One stage on the cluster, as the runner follows it."""

    key: str
    claim: str
    future: Any
    reader: QueueReader
    started: float
    worker: str | None = None
    ended: bool = False
    dropped: bool = False
    lost: bool = False


class DaskExecutor:
    """Runs command stages on a Dask cluster; one instance per invocation, thread-safe."""

    def __init__(self, client: Client, cluster: LocalRun | None) -> None:
        self.client = client
        self.cluster = cluster
        self.cancel_name = f"{PREFIX}-cancel-{uuid.uuid4().hex}"
        self._cancel_sent = False
        self._workers: dict[str, Any] = {}
        self._workers_at = 0.0
        self._lock = threading.Lock()
        self._lost_keys: list[str] = []
        # Claims of finished stages, released on the scheduler at close (off the
        # stages' path: one call each).
        self._claims: list[str] = []

    @classmethod
    def open(cls, settings: DaskSettings) -> DaskExecutor:
        """Connect to the scheduler, or start a local cluster (exit 2 when unreachable)."""
        client, cluster = connect(settings)
        return cls(client, cluster)

    def close(self) -> None:
        """End what lost workers left behind, release the claims, disconnect."""
        from distributed import Event

        for key in self._lost_keys:
            self._end_leftovers(key)
        for claim in self._claims:
            with contextlib.suppress(Exception):
                Event(claim, client=self.client).clear()
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def prepare_run(self, paths: RunPaths) -> None:
        """Check that every worker sees the run directory (a probe file they must read)."""
        with shared_probe(paths.executor_probe) as expected:
            seen: dict[str, str | None] = self.client.run(read_probe, str(paths.executor_probe))
        if not seen:
            raise ClusterUnusable("the dask cluster has no workers")
        blind = sorted(address for address, text in seen.items() if text != expected)
        if blind:
            raise ClusterUnusable(
                f"dask worker {blind[0]} cannot see the run directory "
                f"{paths.relative(paths.run_dir)} (stages need a filesystem shared with "
                "the workers, mounted at the same path)"
            )

    def run(
        self, request: CommandRequest, sink: OutputSink, cancel: CancelSignal
    ) -> CommandOutcome:
        """Run one command on a worker; its output reaches ``sink`` while it runs."""
        problem = self._unmet(request.resources)
        if problem is not None:
            return _failed(time.monotonic(), problem)
        stage = self._submit(request)
        try:
            self._follow(stage, sink, cancel)
        except BaseException:
            # The sink failed (disk full) or the runner is going down: the run ends, so
            # every stage of it on the cluster is ended rather than left running.
            self._cancel_all()
            stage.future.cancel()
            raise
        finally:
            stage.reader.stop(stage.ended)
            with self._lock:
                self._claims.append(stage.claim)
        if stage.dropped:
            return _ended(stage.started, cancelled=True)
        return self._outcome(stage)

    def _submit(self, request: CommandRequest) -> _Submitted:
        from distributed import Queue

        name = f"{request.index:02d}-{uuid.uuid4().hex[:16]}"
        key = f"{PREFIX}-stage-{name}"
        queue = Queue(f"{PREFIX}-out-{name}", client=self.client, maxsize=QUEUE_ITEMS)
        claim = f"{PREFIX}-claim-{name}"
        env_overlay, env_unset = overlay(request.env)
        job = WorkerJob(
            key=key,
            argv=tuple(request.argv),
            cwd=str(request.cwd),
            env_overlay=env_overlay,
            env_unset=env_unset,
            timeout_seconds=request.timeout_seconds,
            run_dir=str(request.env.get("CODEX_ORCHESTRATOR_RUN_DIR", request.cwd)),
            output_queue=queue.name,
            cancel_event=self.cancel_name,
            claim=claim,
        )
        started = time.monotonic()
        future = self.client.submit(
            run_on_worker, job, key=key, pure=False, resources=dict(request.resources) or None
        )
        return _Submitted(
            key=key,
            claim=claim,
            future=future,
            reader=QueueReader(queue, QUEUE_ITEMS),
            started=started,
        )

    def _follow(self, stage: _Submitted, sink: OutputSink, cancel: CancelSignal) -> None:
        """Hand the stage's output to ``sink`` until it ends, is dropped, or is lost."""
        while not stage.ended:
            if cancel.is_set():
                self._cancel_all()
            for message in stage.reader.take(TICK_SECONDS):
                if message[0] == OUTPUT:
                    sink.write(str(message[1]), bytes(message[2]))
                elif message[0] == START:
                    stage.worker = str(message[1])
                elif message[0] == END:
                    stage.ended = True
            if stage.ended:
                return
            if stage.worker is None and cancel.is_set():
                # Still queued on the cluster: it never starts (if it just did, the
                # run's cancel event ends it on its worker).
                stage.future.cancel()
                stage.dropped = True
                return
            if stage.future.done() and stage.future.status != "finished":
                return  # the task failed (its worker was killed) before its end marker
            if stage.worker is not None and not self._alive(stage.worker):
                stage.lost = True
                stage.future.cancel()
                self._lost(stage.key)
                return

    def _outcome(self, stage: _Submitted) -> CommandOutcome:
        from distributed import CancelledError, KilledWorker

        started, worker, key = stage.started, stage.worker, stage.key
        if stage.lost:
            return _lost(started, worker)
        try:
            reply: WorkerReply = stage.future.result(timeout=RESULT_TIMEOUT_SECONDS)
        except (KilledWorker, CancelledError, OSError, TimeoutError):
            # Its worker died (Dask gave up on it), or the cluster itself went away.
            self._lost(key)
            return _lost(started, worker)
        if reply.lost:
            self._lost(key)
            return _lost(started, worker or reply.worker)
        if reply.missing_run_dir or reply.outcome is None:
            return dataclasses.replace(
                _failed(started, f"the run directory is not visible on dask worker {reply.worker}"),
                worker=reply.worker,
            )
        return dataclasses.replace(reply.outcome, worker=reply.worker)

    def _unmet(self, wanted: Mapping[str, float]) -> str | None:
        """Why no worker can ever run a stage asking for ``wanted`` (None: one can)."""
        if not wanted:
            return None
        for info in self._current_workers().values():
            offered = info.get("resources") or {}
            if all(offered.get(name, 0) >= amount for name, amount in wanted.items()):
                return None
        asked = ", ".join(f"{name}={amount:g}" for name, amount in wanted.items())
        return f"no dask worker offers the resources {asked}"

    def _cancel_all(self) -> None:
        from distributed import Event

        with self._lock:
            if self._cancel_sent:
                return
            self._cancel_sent = True
        Event(self.cancel_name, client=self.client).set()

    def _current_workers(self) -> dict[str, Any]:
        """The cluster's workers (refreshed at most once a second, shared by all stages)."""
        with self._lock:
            now = time.monotonic()
            if now - self._workers_at >= WORKERS_REFRESH_SECONDS:
                info = self.client.scheduler_info()
                self._workers = dict(info.get("workers", {}))
                self._workers_at = now
            return self._workers

    def _alive(self, worker: str) -> bool:
        return worker in self._current_workers()

    def _lost(self, key: str) -> None:
        with self._lock:
            self._lost_keys.append(key)
        self._end_leftovers(key)

    def _end_leftovers(self, key: str) -> None:
        """Ask every worker to end the processes a lost stage left on its host."""
        with contextlib.suppress(Exception):
            self.client.run(end_stage_processes, key)


def _ended(started: float, **how: Any) -> CommandOutcome:
    """An outcome for a command the worker did not report on (it never ran, or was lost)."""
    return CommandOutcome(
        exit_code=None,
        signal=None,
        duration_ms=int((time.monotonic() - started) * 1000),
        resources=Resources(),
        **how,
    )


def _failed(started: float, spawn_error: str) -> CommandOutcome:
    return _ended(started, spawn_error=spawn_error)


def _lost(started: float, worker: str | None) -> CommandOutcome:
    return _ended(started, worker=worker, worker_lost=True)
