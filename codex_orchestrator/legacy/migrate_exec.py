"""Carrying out one planned migration step so that a kill -9 at any point loses nothing.

A run is copied to ``cli/.<run-id>.migrating``, fsynced, renamed to ``cli/<run-id>``;
only then is the old ``mcp/<run-id>`` renamed aside to ``mcp/.<run-id>.migrated``, the
compat pointer made, and the old copy removed. A rerun finds each intermediate state
and finishes the job (see ``migrate_plan``).
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.legacy.entries import EntryKind, inspect_entry
from codex_orchestrator.legacy.migrate_plan import Action, PlanItem, relocation_for
from codex_orchestrator.legacy.relocate import Relocation, relocate_manifest
from codex_orchestrator.store.catalog import MANIFEST_NAME
from codex_orchestrator.store.fsutil import atomic_write, ensure_dir
from codex_orchestrator.store.layout import LEGACY_MANIFEST_NAME, RunsLayout
from codex_orchestrator.store.rundir import pointer_stub
from codex_orchestrator.store.treecopy import TreeError, copy_tree, fsync_dir, remove_tree

# Test hook for crash-safety tests: "<step>" or "<step>:<run-id>" makes the process
# SIGKILL itself at that step, leaving exactly the state a kill -9 there would leave.
KILL_AT_ENV = "CODEX_ORCHESTRATOR_MIGRATE_KILL_AT"


def execute(layout: RunsLayout, item: PlanItem, migrated_at: str) -> tuple[str, str]:
    """Carry out one item: ``(status, message)`` with status ``migrated`` or ``error``."""
    run_id = item.run_id or ""
    try:
        if item.action is Action.MOVE:
            details = stage_run(layout, item.task_id, run_id, item.source, migrated_at)
            finish_move(layout, item.task_id, run_id)
            return "migrated", f"moved to cli/; compat pointer left in mcp/{details}"
        if item.action is Action.COPY:
            details = stage_run(layout, item.task_id, run_id, item.source, migrated_at)
            _ensure_pointer(layout, item.task_id, run_id)
            return "migrated", f"copied to cli/ (local-mcp left as it was){details}"
        if item.action is Action.FINISH:
            finish_move(layout, item.task_id, run_id)
            return "migrated", "finished an interrupted migration"
        if item.action is Action.POINTER:
            _ensure_pointer(layout, item.task_id, run_id)
            return "migrated", "compat pointer added"
    except (OSError, OrchestratorError, TreeError, TypeError, ValueError) as exc:
        return "error", f"{type(exc).__name__}: {exc}; nothing lost, rerun to retry"
    return "error", f"nothing to execute for action {item.action}"


def stage_run(layout: RunsLayout, task_id: str, run_id: str, source: Path, migrated_at: str) -> str:
    """Copy ``source`` to ``cli/<run-id>`` through a temp name; the details for the message."""
    cli_dir = layout.cli_dir(task_id)
    ensure_dir(cli_dir)
    staging = layout.migration_temp_dir(task_id, run_id)
    final = layout.run(task_id, run_id).run_dir
    if os.path.lexists(final):
        raise TreeError(f"{layout.relative(final)} already exists")
    if os.path.lexists(staging):
        remove_tree(staging)  # an interrupted copy: the source is still whole
    relocation = relocation_for(layout, task_id, run_id, source, migrated_at)
    try:
        repointed = copy_tree(source, staging, final)
        rewritten = _relocate_manifest_in(staging, relocation)
        fsync_dir(staging)
    except BaseException:
        _discard(staging)
        raise
    _checkpoint("copied", run_id)
    if os.path.lexists(final):
        _discard(staging)
        raise TreeError(f"{layout.relative(final)} appeared while copying")
    staging.rename(final)
    fsync_dir(cli_dir)
    _checkpoint("renamed", run_id)
    details = ""
    if rewritten:
        details += f"; manifest.json rewritten, original kept as {LEGACY_MANIFEST_NAME}"
    if repointed:
        details += f"; {repointed} symlink(s) re-pointed"
    return details


def _relocate_manifest_in(run_dir: Path, relocation: Relocation) -> bool:
    manifest = run_dir / MANIFEST_NAME
    rewritten = relocate_manifest(manifest.read_bytes(), relocation)
    if rewritten is None:
        return False
    original = run_dir / LEGACY_MANIFEST_NAME
    if os.path.lexists(original):
        raise TreeError(f"{LEGACY_MANIFEST_NAME} already present: cannot keep the original")
    mode = stat.S_IMODE(manifest.stat().st_mode)
    manifest.rename(original)  # the original's bytes, mode and times, untouched
    atomic_write(manifest, rewritten, mode=mode)
    return True


def finish_move(layout: RunsLayout, task_id: str, run_id: str) -> None:
    """``cli/<run-id>`` is whole: put the old directory aside, make the pointer, remove it."""
    mcp_dir = layout.mcp_dir(task_id)
    old = layout.compat_pointer(task_id, run_id)
    trash = layout.migration_trash_dir(task_id, run_id)
    if not layout.run(task_id, run_id).run_dir.is_dir():
        raise TreeError(f"cli/{run_id} is missing: the old directory is kept")
    if inspect_entry(layout, old).kind is EntryKind.RUN:
        if os.path.lexists(trash):
            remove_tree(trash)
        old.rename(trash)
        fsync_dir(mcp_dir)
        _checkpoint("source-moved", run_id)
    _ensure_pointer(layout, task_id, run_id)
    if os.path.lexists(trash):
        remove_tree(trash)


def _ensure_pointer(layout: RunsLayout, task_id: str, run_id: str) -> None:
    """The compat pointer ``mcp/<run-id>``: a relative symlink, else a stub manifest."""
    pointer = layout.compat_pointer(task_id, run_id)
    if os.path.lexists(pointer):
        return
    mcp_dir = layout.mcp_dir(task_id)
    ensure_dir(mcp_dir)
    target = layout.compat_target(run_id)
    try:
        pointer.symlink_to(target, target_is_directory=True)
    except OSError:
        if os.path.lexists(pointer):
            raise
        _make_stub_pointer(pointer, layout.compat_pointer_staging(task_id, run_id), target)
    fsync_dir(mcp_dir)
    _checkpoint("pointer-made", run_id)


def _make_stub_pointer(pointer: Path, staging: Path, target: str) -> None:
    """Where links fail: a directory whose manifest redirects, renamed into place whole."""
    if os.path.lexists(staging):
        remove_tree(staging)
    staging.mkdir()
    atomic_write(staging / MANIFEST_NAME, pointer_stub(target))
    fsync_dir(staging)
    staging.rename(pointer)


def _discard(staging: Path) -> None:
    if os.path.lexists(staging):
        remove_tree(staging)


def _checkpoint(step: str, run_id: str) -> None:
    wanted = os.environ.get(KILL_AT_ENV)
    if wanted and wanted in (step, f"{step}:{run_id}"):
        os.kill(os.getpid(), signal.SIGKILL)
