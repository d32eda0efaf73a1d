"""The worker side of the Dask executor: run one command on a worker, ship its bytes.

``run_on_worker`` is what the runner submits. It runs in a Dask worker thread, starts
the command through the local executor (its own session, the timeout, TERM then KILL
of the whole tree, CPU and peak RSS from ``wait4`` and psutil, all measured here on
the worker) and puts every chunk of output on a ``distributed.Queue`` that the runner
reads while the stage runs. The queue is bounded: a command printing faster than the
runner writes is held back by its pipe, not buffered without limit on the scheduler.

Cancel is one ``distributed.Event`` per run, polled while the command runs. A task
that Dask runs again after its first worker died finds its claim taken and starts
nothing: the stage fails as ``worker-lost`` rather than running twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from codex_orchestrator.engine.executor import CommandOutcome, CommandRequest
from codex_orchestrator.engine.process import run_process

CANCEL_POLL_SECONDS = 0.25
# A runner that stops reading for this long is gone (killed): end the command.
PUT_TIMEOUT_SECONDS = 120.0
# Marks every process of a stage (inherited), so a lost stage's leftovers can be found.
STAGE_MARK = "CODEX_ORCHESTRATOR_DASK_TASK"
# Messages on the output queue; msgpack carries bytes as they are.
START, OUTPUT, END = "start", "out", "end"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerJob:
    """One command stage as shipped to a worker (plain data)."""

    key: str
    argv: tuple[str, ...]
    cwd: str
    # Only what differs from the runner's own environment: the worker's environment is
    # the base, so the runner's PATH or secrets are not shipped through the scheduler.
    env_overlay: dict[str, str] = field(default_factory=dict)
    env_unset: tuple[str, ...] = ()
    timeout_seconds: float | None = None
    run_dir: str
    output_queue: str
    cancel_event: str
    claim: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerReply:
    """What the worker hands back when the task ends."""

    worker: str
    outcome: CommandOutcome | None = None
    # Dask ran the task again after its first worker died: nothing was started.
    lost: bool = False
    # The run directory is not visible here (no shared filesystem): nothing was started.
    missing_run_dir: bool = False


class _QueueSink:
    """Puts output chunks on the runner's queue, in order."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def write(self, stream: str, data: bytes) -> None:
        # Raising here (the runner is gone) makes run_process end the command's tree.
        self.queue.put([OUTPUT, stream, data], timeout=PUT_TIMEOUT_SECONDS)


class _RunCancel:
    """The run's cancel, polled from the scheduler at most every CANCEL_POLL_SECONDS."""

    def __init__(self, event: Any) -> None:
        self.event = event
        self.cancelled = False
        # The runner submits nothing once cancelled: the first poll can wait a little.
        self.next_poll = time.monotonic() + CANCEL_POLL_SECONDS

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now >= self.next_poll:
            self.cancelled = bool(self.event.is_set())
            self.next_poll = now + CANCEL_POLL_SECONDS
        return self.cancelled

    def fileno(self) -> int | None:
        return None


def run_on_worker(job: WorkerJob) -> WorkerReply:
    """Run ``job`` on this worker (called by Dask in a worker thread)."""
    from distributed import Queue, get_client, get_worker

    worker = get_worker()
    client = get_client()
    queue = Queue(job.output_queue, client=client)
    try:
        return _run(job, worker.address, queue, client)
    finally:
        # Every way out ends with the end marker: the runner reads up to it.
        with contextlib.suppress(Exception):
            queue.put([END], timeout=PUT_TIMEOUT_SECONDS)
        queue.close()


def _run(job: WorkerJob, address: str, queue: Any, client: Any) -> WorkerReply:
    from distributed import Event

    claim = Event(job.claim, client=client)
    if claim.is_set():
        return WorkerReply(worker=address, lost=True)
    claim.set()
    if not Path(job.run_dir).is_dir():
        return WorkerReply(worker=address, missing_run_dir=True)
    queue.put([START, address])
    env = {key: value for key, value in os.environ.items() if key not in job.env_unset}
    env.update(job.env_overlay)
    env[STAGE_MARK] = job.key
    request = CommandRequest(
        argv=job.argv, cwd=Path(job.cwd), env=env, timeout_seconds=job.timeout_seconds
    )
    cancel = _RunCancel(Event(job.cancel_event, client=client))
    outcome = run_process(request, _QueueSink(queue), cancel)
    return WorkerReply(worker=address, outcome=outcome)


def read_probe(path: str) -> str | None:
    """The probe file's text as this worker sees it (None when it cannot read it)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def end_stage_processes(key: str) -> int:
    """KILL every process on this host marked as part of stage ``key``; how many there were.

    Used when a worker died mid-stage: its command's processes outlive it, and any
    worker on the same host (or the one restarted in its place) can end them.
    """
    ended = 0
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.environ().get(STAGE_MARK) == key and proc.pid != os.getpid():
                os.kill(proc.pid, signal.SIGKILL)
                ended += 1
    return ended
