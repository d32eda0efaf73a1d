"""The executor seam: how one command stage is run, wherever it runs.

An executor turns a :class:`CommandRequest` into a :class:`CommandOutcome` and ships
the command's output as bytes into an :class:`OutputSink`. Everything else stays on
the stage side (engine/stage.py): splitting bytes into lines, keeping the tails for
error files, writing events, and the manifest (which only the driver thread touches).
So an executor ships bytes only, and a new one (a Dask worker, a container) needs
nothing of the event format.

Threading. The driver runs each command stage on a thread of its own, which calls
``Executor.run``; several stages may call ``run`` of one executor at once, so an
executor must be safe to call from several threads. Calls to ``sink.write`` for one
request must not overlap (one thread at a time, in arrival order) and must all happen
before ``run`` returns; the local executor makes them on the thread that called
``run``. ``sink.write`` may raise (the disk is full): the executor then ends the
command's whole process tree and lets the exception propagate out of ``run``.

Cancel. ``cancel.is_set()`` turns true when the run is cancelled (SIGINT/SIGTERM to
the runner, a ``halt`` gate); it never turns false again. ``cancel.fileno()``, when not
None, is a descriptor that becomes readable once cancel is set: wait on it (never read
it) to react at once; otherwise poll ``is_set()`` at least every half second. On
cancel the executor ends the command's whole process tree (TERM, a grace of
``KILL_GRACE_SECONDS``, then KILL) and returns an outcome with ``cancelled=True``.

Timeouts. ``request.timeout_seconds`` (None: no limit) is enforced by the executor, the
same way as cancel, and reported as ``timed_out=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from codex_orchestrator.model import Resources

if TYPE_CHECKING:
    from codex_orchestrator.store.layout import RunPaths

KILL_GRACE_SECONDS = 2.0
STDOUT = "stdout"
STDERR = "stderr"


class OutputSink(Protocol):
    """Receives a command's output as it arrives."""

    def write(self, stream: str, data: bytes) -> None:
        """Bytes read from ``stream`` (``"stdout"`` or ``"stderr"``), in arrival order."""


class CancelSignal(Protocol):
    """Set once when the run is cancelled; see the module docstring."""

    def is_set(self) -> bool:
        """Whether the run was cancelled."""

    def fileno(self) -> int | None:
        """A descriptor readable once cancelled (wait on it, never read it), or None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRequest:
    """One command to run.

    ``argv`` is run directly (stages run ``/bin/sh -c COMMAND``); ``cwd`` exists on the
    machine that runs it; ``env`` is the complete environment (nothing is inherited);
    standard input is empty. ``stage_id`` and ``index`` name the stage, for executors
    that label their work (a Dask task key); they change nothing about how it runs.
    """

    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    timeout_seconds: float | None = None
    stage_id: str = ""
    index: int = 0
    # What the stage needs of the machine that runs it (e.g. {"cpu": 2}): Dask worker
    # resources; the local executor ignores it.
    resources: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandOutcome:
    """How one command ended.

    Exactly one of these holds: ``spawn_error`` is set (it never started: the message
    says why, ``exit_code`` and ``signal`` are None); ``exit_code`` is set (it exited);
    ``signal`` is set (a signal ended it, e.g. ``"SIGKILL"``). ``timed_out`` and
    ``cancelled`` say that the executor ended it. ``duration_ms`` is wall time from
    start to the end of its output; ``resources`` are the CPU seconds and peak RSS of
    its process tree (zero when unknown).
    """

    exit_code: int | None
    signal: str | None
    duration_ms: int
    resources: Resources
    timed_out: bool = False
    cancelled: bool = False
    spawn_error: str | None = None
    # What the command left running in its session and the executor ended when it
    # finished ({pid, name, command}); the local executor fills it.
    ended_processes: tuple[dict[str, Any], ...] = ()
    # Where it ran, for executors with several machines (a Dask worker's address).
    worker: str | None = None
    # That machine left (died) before the command ended: its end is unknown.
    worker_lost: bool = False


class Executor(Protocol):
    """Runs command stages; see the module docstring for threading and cancel."""

    def run(
        self, request: CommandRequest, sink: OutputSink, cancel: CancelSignal
    ) -> CommandOutcome:
        """Run ``request`` to its end, streaming its output into ``sink``."""


@runtime_checkable
class PreparesRuns(Protocol):
    """An executor that checks, before a run's first stage, that it can run its stages."""

    def prepare_run(self, paths: RunPaths) -> None:
        """Raise an OrchestratorError (the run fails with that one line) when it cannot,
        e.g. Dask workers that do not see the run directory."""
