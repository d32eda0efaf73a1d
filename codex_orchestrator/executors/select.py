"""Choosing the executor of an invocation: ``--executor``/``--scheduler``, else the config."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codex_orchestrator.config_executor import check_scheduler
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import ExecutorConfig, ExecutorKind

if TYPE_CHECKING:
    from codex_orchestrator.engine.executor import Executor

DASK_EXTRA_HINT = "pip install 'codex-orchestrator[dask]'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorChoice:
    """What the command line asked for (None: what the config says)."""

    kind: ExecutorKind | None = None
    scheduler: str | None = None


def resolve_executor(choice: ExecutorChoice, config: ExecutorConfig) -> ExecutorConfig:
    """The command line over the config; ``--scheduler`` alone means the dask executor."""
    if choice.scheduler is not None:
        check_scheduler(choice.scheduler)
    kind = choice.kind or (ExecutorKind.DASK if choice.scheduler else config.kind)
    if choice.scheduler is not None and kind is not ExecutorKind.DASK:
        raise InvalidInput("--scheduler applies only to --executor dask")
    scheduler = choice.scheduler or config.scheduler
    return ExecutorConfig(
        kind=kind, scheduler=scheduler, workers=config.workers, resources=config.resources
    )


@contextlib.contextmanager
def open_executor(config: ExecutorConfig, jobs: int | None = None) -> Iterator[Executor | None]:
    """The executor for the runs of this invocation (None: the local one), closed after."""
    if config.kind is ExecutorKind.LOCAL:
        yield None
        return
    try:
        import distributed  # noqa: F401 - imported here to report a missing extra plainly

        from codex_orchestrator.executors.dask import DaskExecutor
        from codex_orchestrator.executors.dask_cluster import DaskSettings
    except ImportError as exc:
        raise InvalidInput(
            f"--executor dask needs the dask extra ({DASK_EXTRA_HINT}): {exc}"
        ) from exc
    executor = DaskExecutor.open(
        DaskSettings(
            scheduler=config.scheduler,
            workers=config.workers,
            jobs=jobs or os.cpu_count() or 1,
            resources=config.resources,
        )
    )
    try:
        yield executor
    finally:
        executor.close()
