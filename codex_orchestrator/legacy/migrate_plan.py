"""Deciding what migration does to each entry of the older layouts; nothing is changed here.

For a task T and a run R:
- ``T/mcp/R`` a real run directory: MOVE to ``T/cli/R``; ``T/mcp/R`` becomes the pointer.
- ``local-mcp/R`` a real run of T (or naming no task): COPY to ``T/cli/R`` (+ pointer);
  ``local-mcp`` itself is never modified.
- State an interrupted migration left (``cli/R`` already whole, ``mcp/.R.migrated``):
  FINISH, after checking that the copy holds every byte of the original.
- Pointers, and anything unrecognised: SKIP, with the reason. Conflicts: ERROR.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from codex_orchestrator.legacy.entries import EntryKind, Inspection, active_for, inspect_entry
from codex_orchestrator.legacy.relocate import Relocation, relocate_manifest
from codex_orchestrator.store.catalog import read_small_json, task_of
from codex_orchestrator.store.layout import (
    LEGACY_DIR_NAME,
    LEGACY_MANIFEST_NAME,
    RunsLayout,
    looks_like_run_id,
)
from codex_orchestrator.store.treecopy import contained_in

_TASK_PARTS = frozenset({"cli", "mcp", "migrations"})
_TRASH_SUFFIX = ".migrated"
_TEMP_SUFFIX = ".migrating"


class Action(enum.StrEnum):
    """What migration does with one entry."""

    MOVE = "move"
    COPY = "copy"
    FINISH = "finish"
    POINTER = "pointer"
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanItem:
    """One entry and what to do with it."""

    run_id: str | None
    task_id: str
    action: Action
    source: Path
    destination: Path | None
    message: str


def plan_task(layout: RunsLayout, task_id: str) -> list[PlanItem]:
    """Everything migration would do for a task, and everything it leaves alone, in order."""
    return [item for phase in PHASES for item in phase(layout, task_id)]


def _hidden_names(directory: Path, suffix: str) -> set[str]:
    names = _all_names(directory)
    return {n[1 : -len(suffix)] for n in names if n.startswith(".") and n.endswith(suffix)}


def _all_names(directory: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _names(directory: Path) -> list[str]:
    return [name for name in _all_names(directory) if not name.startswith(".")]


def plan_mcp(layout: RunsLayout, task_id: str) -> list[PlanItem]:
    """Entries of ``<task>/mcp/`` (and moves a kill -9 interrupted)."""
    mcp_dir = layout.mcp_dir(task_id)
    trashed = _hidden_names(mcp_dir, _TRASH_SUFFIX)
    return [
        _plan_mcp_run(layout, task_id, run_id, run_id in trashed)
        for run_id in sorted(set(_names(mcp_dir)) | trashed)
    ]


def _plan_mcp_run(layout: RunsLayout, task_id: str, run_id: str, trashed: bool) -> PlanItem:
    source = layout.compat_pointer(task_id, run_id)
    destination = layout.run(task_id, run_id).run_dir
    found = inspect_entry(layout, source)

    def item(action: Action, message: str, where: Path = source) -> PlanItem:
        return PlanItem(
            run_id=run_id,
            task_id=task_id,
            action=action,
            source=where,
            destination=destination if action is not Action.SKIP else None,
            message=message,
        )

    if found.kind is EntryKind.RUN:
        if os.path.lexists(destination):
            difference = _difference(source, destination)
            if difference is None:
                return item(Action.FINISH, "cli/ already holds a whole copy: finishing the move")
            return item(Action.ERROR, f"cli/{run_id} exists and differs ({difference})")
        active = active_for(source, found.manifest)
        if active is not None:
            return item(Action.SKIP, f"run looks active (heartbeat {active:.0f}s ago)")
        return item(Action.MOVE, _move_message(layout, task_id, run_id, found, "move"))
    if trashed:
        trash = layout.migration_trash_dir(task_id, run_id)
        difference = (
            _difference(trash, destination) if destination.is_dir() else "cli/ copy is missing"
        )
        if difference is None:
            return item(Action.FINISH, "interrupted migration: removing the old directory", trash)
        return item(Action.ERROR, f"leftover {trash.name} kept: {difference}", trash)
    if found.kind is EntryKind.POINTER:
        if found.target is not None and found.target.parent == destination:
            return item(Action.SKIP, "compat pointer to cli/: already in the current layout")
        where = layout.relative(found.target) if found.target is not None else "?"
        return item(Action.SKIP, f"compat pointer to {where}: left alone")
    return item(Action.SKIP, f"{_describe(found)}: left alone")


def plan_local(layout: RunsLayout, task_id: str) -> list[PlanItem]:
    """Entries of ``local-mcp/``."""
    return [_plan_local_run(layout, task_id, run_id) for run_id in _names(layout.legacy_dir())]


def _plan_local_run(layout: RunsLayout, task_id: str, run_id: str) -> PlanItem:
    source = layout.legacy_run_dir(run_id)
    destination = layout.run(task_id, run_id).run_dir
    found = inspect_entry(layout, source)

    def item(action: Action, message: str) -> PlanItem:
        target = destination if action is not Action.SKIP else None
        return PlanItem(
            run_id=run_id,
            task_id=task_id,
            action=action,
            source=source,
            destination=target,
            message=message,
        )

    if found.kind is EntryKind.POINTER and found.target is not None:
        return item(Action.SKIP, f"legacy pointer to {layout.relative(found.target)}: read-only")
    if found.kind is not EntryKind.RUN:
        return item(Action.SKIP, f"{_describe(found)}: left alone (read-only)")
    owner = task_of(layout, source / "manifest.json")
    if owner is not None and owner != task_id:
        return item(Action.SKIP, f"a run of task {owner}: migrate it with --task {owner}")
    if os.path.lexists(destination):
        difference = _difference(source, destination)
        if difference is not None:
            return item(Action.ERROR, f"cli/{run_id} exists and differs ({difference})")
        if not os.path.lexists(layout.compat_pointer(task_id, run_id)):
            return item(Action.POINTER, "copy already in cli/: adding its compat pointer")
        return item(Action.SKIP, "already copied into cli/ (source kept, read-only)")
    active = active_for(source, found.manifest)
    if active is not None:
        return item(Action.SKIP, f"run looks active (heartbeat {active:.0f}s ago)")
    return item(Action.COPY, _move_message(layout, task_id, run_id, found, "copy"))


def plan_strays(layout: RunsLayout, task_id: str) -> list[PlanItem]:
    """Unknown directories in the task, other tasks' pending runs, unrecognised top-level dirs."""
    task_dir = layout.task_dir(task_id)
    items = [
        _stray(task_id, task_dir / name, "not part of the run layout")
        for name in _names(task_dir)
        if name not in _TASK_PARTS and (task_dir / name).is_dir()
    ]
    for name in _names(layout.runs_dir):
        path = layout.runs_dir / name
        if name in (task_id, LEGACY_DIR_NAME) or not path.is_dir():
            continue
        children = [child for child in _names(path) if (path / child).is_dir()]
        if any(child in _TASK_PARTS for child in children):
            pending = _pending_in_other_task(layout, name)
            if pending:
                message = f"task {name} has {pending} run(s) in the older layout: use --task {name}"
                items.append(_stray(task_id, path / "mcp", message, run_id=None))
            continue
        reason = f"unrecognised layout ({layout.relative(path)} has no cli/ or mcp/)"
        items.extend(_stray(task_id, path / child, reason) for child in children)
        if not children and any(True for _ in path.iterdir()):
            items.append(_stray(task_id, path, reason, run_id=None))
    return items


def _stray(task_id: str, path: Path, reason: str, run_id: str | None = "") -> PlanItem:
    if run_id == "":
        run_id = path.name if looks_like_run_id(path.name) else None
    return PlanItem(
        run_id=run_id,
        task_id=task_id,
        action=Action.SKIP,
        source=path,
        destination=None,
        message=f"{reason}: left alone",
    )


def _pending_in_other_task(layout: RunsLayout, task_id: str) -> int:
    mcp_dir = layout.runs_dir / task_id / "mcp"
    count = 0
    for name in _names(mcp_dir):
        entry = mcp_dir / name
        if entry.is_symlink() or not entry.is_dir():
            continue
        data = read_small_json(entry / "manifest.json")
        if isinstance(data, dict) and "redirect_to" not in data:
            count += 1
    return count


def _difference(source: Path, copy: Path) -> str | None:
    renamed = {}
    if (copy / LEGACY_MANIFEST_NAME).is_file() and not (source / LEGACY_MANIFEST_NAME).exists():
        renamed[Path("manifest.json")] = Path(LEGACY_MANIFEST_NAME)
    try:
        return contained_in(source, copy, copy, renamed)
    except OSError as exc:
        return f"cannot compare: {exc.strerror or exc}"


# Carried out one after the other: local-mcp copies are planned after the moves of mcp/,
# so that a run present in both places is compared with what the move produced.
PHASES = (plan_mcp, plan_local, plan_strays)


def relocation_for(
    layout: RunsLayout, task_id: str, run_id: str, source: Path, migrated_at: str
) -> Relocation:
    """How a run's manifest paths change when it moves from ``source`` to ``cli/<run-id>``."""
    old_layout = LEGACY_DIR_NAME if source.parent == layout.legacy_dir() else "mcp"
    return Relocation(
        run_id=run_id,
        task_id=task_id,
        old_forms=layout.recorded_forms(source),
        new_root=layout.relative(layout.run(task_id, run_id).run_dir),
        new_compat=layout.relative(layout.compat_pointer(task_id, run_id)),
        old_layout=old_layout,
        migrated_at=migrated_at,
    )


def _move_message(
    layout: RunsLayout, task_id: str, run_id: str, found: Inspection, verb: str
) -> str:
    parts = [f"{verb} {found.shape} run to cli/"]
    source = (
        layout.compat_pointer(task_id, run_id) if verb == "move" else layout.legacy_run_dir(run_id)
    )
    relocation = relocation_for(layout, task_id, run_id, source, "")
    try:
        rewrite = relocate_manifest(orjson.dumps(found.manifest), relocation) is not None
    except (TypeError, ValueError):
        rewrite = False
    if rewrite:
        parts.append("rewrite manifest.json (original kept as manifest.legacy.json)")
    if verb == "move" or not os.path.lexists(layout.compat_pointer(task_id, run_id)):
        parts.append("leave a compat pointer in mcp/")
    if os.path.lexists(layout.migration_temp_dir(task_id, run_id)):
        parts.append("redo an interrupted copy")
    return "; ".join(parts)


def _describe(found: Inspection) -> str:
    if found.kind is EntryKind.BROKEN_POINTER:
        return f"broken compat pointer ({found.reason})"
    return f"unrecognised ({found.reason})"
