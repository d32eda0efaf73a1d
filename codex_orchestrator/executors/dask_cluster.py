"""Reaching a Dask cluster: a scheduler's address, or a local cluster for one run."""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codex_orchestrator.errors import OrchestratorError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

CONNECT_TIMEOUT_SECONDS = 10.0
MAX_DEFAULT_WORKERS = 4
# The scheduler's HTTP server (metrics; the dashboard needs bokeh): loopback, any free
# port, never the shared default 8787.
LOOPBACK_ANY_PORT = "127.0.0.1:0"


class SchedulerUnreachable(OrchestratorError):
    """The Dask scheduler cannot be reached (exit 2, before anything runs)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DaskSettings:
    """Where stages run: a scheduler's address, or the shape of a local cluster."""

    scheduler: str | None = None
    # Local cluster only: how many worker processes, how many stages at once in all.
    workers: int | None = None
    jobs: int = 1
    # Local cluster only: what each worker offers (stages ask for it in ``resources``).
    resources: Mapping[str, float] = field(default_factory=dict)
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS


@dataclass(slots=True)
class LocalRun:
    """A local cluster started for one run, and the scratch directory of its workers."""

    cluster: LocalCluster
    scratch: str

    def close(self) -> None:
        """Shut the workers down, then remove what they kept on disk."""
        try:
            self.cluster.close()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)


def connect(settings: DaskSettings) -> tuple[Client, LocalRun | None]:
    """A client of the scheduler, or of a local cluster started now (returned to close)."""
    from distributed import Client

    if settings.scheduler is None:
        local = start_local_cluster(settings)
        try:
            return Client(local.cluster, set_as_default=False), local
        except BaseException:
            local.close()
            raise
    try:
        client = Client(settings.scheduler, timeout=settings.connect_timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerUnreachable(
            f"cannot reach the dask scheduler at {settings.scheduler}: {_first_line(exc)}"
        ) from exc
    return client, None


def start_local_cluster(settings: DaskSettings) -> LocalRun:
    """Worker processes on this machine for one run, deaf to the terminal's Ctrl-C.

    Ctrl-C reaches the terminal's whole foreground process group, workers included; the
    runner turns it into a cancel, and the workers must live on to end their stages'
    process groups. A process that starts with SIGINT ignored keeps it ignored. Their
    scratch space is a temp directory of this run's (not Dask's shared default
    ``$TMPDIR/dask-scratch-space``), removed when the cluster is closed.
    """
    import dask
    from distributed import LocalCluster

    jobs = max(1, settings.jobs)
    workers = settings.workers or max(1, min(jobs, os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
    threads = max(1, math.ceil(jobs / workers))
    resources = dict(settings.resources) or {"cpu": float(threads)}
    main = threading.current_thread() is threading.main_thread()
    scratch = tempfile.mkdtemp(prefix="codex-orchestrator-dask-")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        # The scheduler takes its scratch space from the config, the workers from
        # local_directory.
        with dask.config.set({"temporary-directory": scratch}):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=threads,
                processes=True,
                dashboard_address=LOOPBACK_ANY_PORT,
                resources=resources,
                silence_logs=logging.ERROR,
                local_directory=scratch,
            )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    return LocalRun(cluster=cluster, scratch=scratch)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
