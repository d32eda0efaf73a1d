"""``migrate``: bring a task's runs of older layouts into the current one, and log it.

plan -> (unless dry) execute each step under the task's migration lock -> write the log
``.runs/<task>/migrations/<stamp>-dry-run.log`` or ``<stamp>-migration.log``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout

from codex_orchestrator.errors import ExitCode, LockTimeout, RunNotFound, RunsPathError, StoreError
from codex_orchestrator.legacy.migrate_exec import execute
from codex_orchestrator.legacy.migrate_plan import PHASES, Action, PlanItem, plan_task
from codex_orchestrator.model import now_iso
from codex_orchestrator.store.fsutil import atomic_write, ensure_dir
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id, validate_run_id

LOG_VERSION = 1
LOCK_TIMEOUT_SECONDS = 5.0
_PLANNED_STATUS = {Action.SKIP: "skipped", Action.ERROR: "error"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrateRequest:
    """What to migrate."""

    root: Path
    task: str | None
    run_id: str | None
    dry_run: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrationReport:
    """The log document and where it was written."""

    document: dict[str, Any]
    log_path: Path | None  # None: nothing was written (a task with nothing on disk)

    @property
    def errors(self) -> int:
        """How many runs ended in ``error``."""
        return sum(1 for run in self.document["runs"] if run["status"] == "error")

    @property
    def exit_code(self) -> ExitCode:
        """0 when nothing failed, 1 when some run could not be migrated."""
        return ExitCode.RUN_FAILED if self.errors else ExitCode.OK


def migrate(request: MigrateRequest) -> MigrationReport:
    """Plan, carry out (unless dry), and log the migration of one task."""
    layout = RunsLayout.for_root(request.root)
    task_id = resolve_task_id(request.task)
    if request.run_id is not None:
        validate_run_id(request.run_id)
    started = now_iso()
    # An unknown run id is refused here, before anything is written.
    planned = _select(layout, task_id, request.run_id, plan_task(layout, task_id))
    if os.path.lexists(layout.runs_dir) and not layout.runs_dir.is_dir():
        raise RunsPathError(f"cannot use {layout.runs_dir}: not a directory")
    untouched = not planned and not os.path.lexists(layout.task_dir(task_id))
    if untouched or request.dry_run:
        runs = [
            _record(layout, item, _PLANNED_STATUS.get(item.action, "planned")) for item in planned
        ]
    else:
        ensure_dir(layout.migrations_dir(task_id))
        try:
            with FileLock(layout.migration_lock(task_id), timeout=LOCK_TIMEOUT_SECONDS):
                runs = _carry_out_phases(layout, task_id, request.run_id, started)
        except Timeout as exc:
            raise LockTimeout(f"another migration of task {task_id} is running") from exc
    document = {
        "version": LOG_VERSION,
        "generated_at": now_iso(),
        "dry_run": request.dry_run,
        "task_id": task_id,
        "repo_root": str(layout.root),
        "legacy_root": layout.relative(layout.legacy_dir()),
        "task_runs_root": layout.relative(layout.cli_dir(task_id)),
        "runs": runs,
    }
    if untouched:
        # Nothing of this task is on disk (a mistyped --task): leave no trace either.
        return MigrationReport(document=document, log_path=None)
    log_path = _write_log(layout, task_id, started, document, dry_run=request.dry_run)
    return MigrationReport(document=document, log_path=log_path)


def _carry_out_phases(
    layout: RunsLayout, task_id: str, run_id: str | None, started: str
) -> list[dict[str, Any]]:
    """Plan each phase on the tree the previous one left, under the lock, and carry it out."""
    runs: list[dict[str, Any]] = []
    for phase in PHASES:
        items = [item for item in phase(layout, task_id) if run_id in (None, item.run_id)]
        runs.extend(_carry_out(layout, item, started) for item in items)
    if not runs and run_id is not None:
        runs = [_record(layout, item, "skipped") for item in _select(layout, task_id, run_id, [])]
    return runs


def _select(
    layout: RunsLayout, task_id: str, run_id: str | None, items: list[PlanItem]
) -> list[PlanItem]:
    """The items of one run (all when None); RunNotFound for a run id found nowhere."""
    if run_id is None:
        return items
    chosen = [item for item in items if item.run_id == run_id]
    if chosen:
        return chosen
    current = layout.run(task_id, run_id).run_dir
    if current.is_dir():
        skip = PlanItem(
            run_id=run_id,
            task_id=task_id,
            action=Action.SKIP,
            source=current,
            destination=None,
            message="already in the current layout",
        )
        return [skip]
    legacy = layout.relative(layout.legacy_dir())
    raise RunNotFound(f"run {run_id} not found in task {task_id} or in {legacy}")


def _carry_out(layout: RunsLayout, item: PlanItem, started: str) -> dict[str, Any]:
    if item.action in (Action.SKIP, Action.ERROR):
        return _record(layout, item, _PLANNED_STATUS[item.action])
    status, message = execute(layout, item, started)
    return _record(layout, item, status, message)


def _record(
    layout: RunsLayout, item: PlanItem, status: str, message: str | None = None
) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "source": layout.relative(item.source),
        "destination": layout.relative(item.destination) if item.destination else None,
        "status": status,
        "message": message if message is not None else item.message,
    }


def _write_log(
    layout: RunsLayout, task_id: str, started: str, document: dict[str, Any], *, dry_run: bool
) -> Path:
    stamp = started.replace(":", "-").replace(".", "-")
    directory = layout.migrations_dir(task_id)
    ensure_dir(directory)
    path = layout.migration_log(task_id, stamp, dry_run=dry_run)
    suffix = 1
    while os.path.lexists(path):  # two migrations in one millisecond keep both logs
        suffix += 1
        path = layout.migration_log(task_id, f"{stamp}-{suffix}", dry_run=dry_run)
    try:
        atomic_write(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
