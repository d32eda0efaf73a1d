"""Finding runs on disk: by id, the latest of a task, or all of them.

Canonical runs live in ``.runs/<task>/cli/<run-id>/``. Runs that exist only in older
layouts are found too: real directories under ``.runs/<task>/mcp/`` and
``.runs/local-mcp/``. Compat pointers are followed to the manifest they name: relative
symlinks, ``{redirect_to, manifest}`` stub manifests, ``compat.json`` files, and
symlinks that a checkout without link support turned into one-line text files.
A run seen in several places is listed once, canonical first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.errors import InvalidInput, RunNotFound, RunsPathError
from codex_orchestrator.store.layout import (
    LEGACY_COMPAT_NAME,
    LEGACY_DIR_NAME,
    RunsLayout,
    validate_run_id,
    validate_task_id,
)

SOURCE_CLI = "cli"
SOURCE_MCP = "mcp"
SOURCE_LOCAL_MCP = LEGACY_DIR_NAME
MANIFEST_NAME = "manifest.json"
MAX_HOPS = 8
# Stubs, compat.json and text pointers are tiny; anything bigger is a real manifest.
SNIFF_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRef:
    """Where one run's manifest lives."""

    task_id: str
    run_id: str
    manifest_path: Path
    source: str  # "cli" (canonical), "mcp" (older canonical) or "local-mcp" (legacy)


# ---------------------------------------------------------------------------
# Following pointers
# ---------------------------------------------------------------------------


def read_small_json(path: Path) -> Any:
    """A small JSON file's content; None when missing, big, unreadable or not JSON."""
    try:
        if path.stat().st_size > SNIFF_LIMIT:
            return None
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def is_pointer_stub(data: Any) -> bool:
    """Whether a manifest is a compat stub ``{redirect_to, manifest, created_at}``."""
    return isinstance(data, dict) and "redirect_to" in data and "run_id" not in data


def follow_pointer(layout: RunsLayout, entry: Path) -> Path | None:
    """The real manifest behind a run directory or compat pointer; None when it leads nowhere.

    The result stays inside the runs directory and is spelled below ``layout.runs_dir``.
    """
    own = entry / MANIFEST_NAME
    candidate = own if os.path.lexists(own) else _compat_json_target(layout, entry)
    runs_real = Path(os.path.realpath(layout.runs_dir))
    for _ in range(MAX_HOPS):
        if candidate is None:
            return None
        real = Path(os.path.realpath(candidate))
        if not real.is_relative_to(runs_real) or not real.is_file():
            return None
        is_pointer, following = _redirect_of(layout, real)
        if not is_pointer:
            return layout.runs_dir / real.relative_to(runs_real)
        candidate = following
    return None


def _compat_json_target(layout: RunsLayout, entry: Path) -> Path | None:
    data = read_small_json(entry / LEGACY_COMPAT_NAME)
    if not isinstance(data, dict):
        return None
    manifest = data.get("manifest")
    if isinstance(manifest, str) and manifest:
        return layout.from_recorded(manifest)
    root = data.get("artifact_root")
    if isinstance(root, str) and root:
        return layout.from_recorded(root) / MANIFEST_NAME
    return None


def _redirect_of(layout: RunsLayout, manifest: Path) -> tuple[bool, Path | None]:
    """Whether a manifest file is a pointer, and where it leads (None: nowhere)."""
    try:
        if manifest.stat().st_size > SNIFF_LIMIT:
            return False, None
        raw = manifest.read_bytes()
    except OSError:
        return False, None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        target = _text_link_target(manifest, raw)
        return target is not None, target
    if not is_pointer_stub(data):
        return False, None
    pointer_dir = manifest.parent
    wanted = [data.get("manifest"), data.get("redirect_to")]
    for index, recorded in enumerate(wanted):
        if not isinstance(recorded, str) or not recorded:
            continue
        suffix = () if index == 0 else (MANIFEST_NAME,)
        bases = (pointer_dir.parent, pointer_dir)
        options = [base.joinpath(recorded, *suffix) for base in bases]
        options.append(layout.from_recorded(recorded).joinpath(*suffix))
        for option in options:
            if option.is_file():
                return True, option
    return True, None


def _text_link_target(manifest: Path, raw: bytes) -> Path | None:
    """A symlink checked out as a file holding its target path (git without links)."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if not text or "\n" in text or "\x00" in text or text.startswith(("{", "[")):
        return None
    return manifest.parent / text


# ---------------------------------------------------------------------------
# Where a manifest sits
# ---------------------------------------------------------------------------


def source_of(layout: RunsLayout, manifest: Path) -> str:
    """``cli``, ``mcp`` or ``local-mcp``: the layout a manifest path belongs to."""
    parts = _parts_below_runs(layout, manifest)
    if parts[:1] == (LEGACY_DIR_NAME,):
        return SOURCE_LOCAL_MCP
    if len(parts) > 1 and parts[1] == SOURCE_MCP:
        return SOURCE_MCP
    return SOURCE_CLI


def task_of(layout: RunsLayout, manifest: Path) -> str | None:
    """The task a manifest belongs to: its place in the tree, else its ``task_id``."""
    parts = _parts_below_runs(layout, manifest)
    if len(parts) == 4 and parts[0] != LEGACY_DIR_NAME and parts[1] in (SOURCE_CLI, SOURCE_MCP):
        return parts[0]
    data = read_small_json(manifest)
    recorded = data.get("task_id") if isinstance(data, dict) else None
    if not isinstance(recorded, str):
        return None
    try:
        return validate_task_id(recorded)
    except InvalidInput:
        return None


def _parts_below_runs(layout: RunsLayout, path: Path) -> tuple[str, ...]:
    try:
        return path.relative_to(layout.runs_dir).parts
    except ValueError:
        return ()


def _is_run_name(name: str) -> bool:
    try:
        validate_run_id(name)
    except InvalidInput:
        return False
    return True


def _entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as scan:
            yield from (entry for entry in scan if _is_run_name(entry.name))
    except FileNotFoundError:
        return
    except OSError as exc:  # a file where the directory should be; no permission
        raise RunsPathError(f"cannot read {directory}: {exc.strerror or exc}") from exc


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------


def _cli_refs(layout: RunsLayout, task_id: str) -> list[RunRef]:
    cli_dir = layout.cli_dir(task_id)
    refs = []
    for entry in _entries(cli_dir):
        manifest = cli_dir / entry.name / MANIFEST_NAME
        if manifest.is_file():
            refs.append(
                RunRef(task_id=task_id, run_id=entry.name, manifest_path=manifest, source="cli")
            )
    return refs


def _mcp_refs(layout: RunsLayout, task_id: str, known: set[str]) -> list[RunRef]:
    refs = []
    for entry in _entries(layout.mcp_dir(task_id)):
        if entry.name in known:
            continue  # the compat pointer of a canonical run, or a duplicate of it
        manifest = follow_pointer(layout, Path(entry.path))
        if manifest is not None:
            source = source_of(layout, manifest)
            refs.append(
                RunRef(task_id=task_id, run_id=entry.name, manifest_path=manifest, source=source)
            )
    return refs


def _legacy_refs(
    layout: RunsLayout, task_id: str | None, seen: set[tuple[str, str]]
) -> list[RunRef]:
    seen_ids = {run_id for _, run_id in seen}
    refs = []
    for entry in _entries(layout.legacy_dir()):
        if entry.name in seen_ids:
            continue
        ref = _legacy_ref(layout, entry.name, task_id)
        if ref is not None and (ref.task_id, ref.run_id) not in seen:
            refs.append(ref)
    return refs


def _legacy_ref(layout: RunsLayout, run_id: str, task_id: str | None) -> RunRef | None:
    manifest = follow_pointer(layout, layout.legacy_run_dir(run_id))
    if manifest is None:
        return None
    owner = task_of(layout, manifest)
    if owner is not None and task_id is not None and owner != task_id:
        return None
    # A legacy run that names no task shows under the task asked about.
    owner = owner or task_id or LEGACY_DIR_NAME
    source = source_of(layout, manifest)
    return RunRef(task_id=owner, run_id=run_id, manifest_path=manifest, source=source)


def list_runs(layout: RunsLayout, task_id: str | None) -> list[RunRef]:
    """The runs of one task (or of every task when None), newest first by run id."""
    tasks = [task_id] if task_id is not None else layout.task_ids()
    refs: list[RunRef] = []
    seen: set[tuple[str, str]] = set()
    for task in tasks:
        canonical = _cli_refs(layout, task)
        names = {ref.run_id for ref in canonical}
        for ref in (*canonical, *_mcp_refs(layout, task, names)):
            refs.append(ref)
            seen.add((ref.task_id, ref.run_id))
    refs.extend(_legacy_refs(layout, task_id, seen))
    refs.sort(key=lambda ref: (ref.run_id, ref.task_id), reverse=True)
    return refs


def locate_run(layout: RunsLayout, run_id: str, task_id: str | None) -> RunRef:
    """The run with this id: in ``task_id`` when given, else in any task."""
    validate_run_id(run_id)
    tasks = [task_id] if task_id is not None else layout.task_ids()
    for task in tasks:
        paths = layout.run(task, run_id)
        if paths.manifest.is_file() or paths.run_dir.is_dir():
            return RunRef(task_id=task, run_id=run_id, manifest_path=paths.manifest, source="cli")
    for task in tasks:
        pointer = layout.compat_pointer(task, run_id)
        manifest = follow_pointer(layout, pointer) if os.path.lexists(pointer) else None
        if manifest is not None:
            source = source_of(layout, manifest)
            return RunRef(task_id=task, run_id=run_id, manifest_path=manifest, source=source)
    legacy = _legacy_ref(layout, run_id, task_id)
    if legacy is not None:
        return legacy
    where = f"task {task_id}" if task_id is not None else f"any task under {layout.runs_dir}"
    raise RunNotFound(f"run {run_id} not found in {where}")


def latest_run(layout: RunsLayout, task_id: str) -> RunRef:
    """The newest run of a task."""
    refs = list_runs(layout, task_id)
    if not refs:
        raise RunNotFound(f"no runs for task {task_id} under {layout.runs_dir}")
    return refs[0]
