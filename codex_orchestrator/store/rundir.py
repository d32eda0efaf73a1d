"""Creating a run directory and its compat pointer, all or nothing."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import orjson

from codex_orchestrator.errors import RunSetupError
from codex_orchestrator.model import now_iso
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import RunPaths, RunsLayout


def create_run_dir(layout: RunsLayout, task_id: str, run_id: str) -> RunPaths:
    """Make ``cli/<run-id>/`` with its subdirectories, and the ``mcp/<run-id>`` pointer.

    Either both exist afterwards or neither does (RunSetupError, exit 2).
    """
    paths = layout.run(task_id, run_id)
    created: list[Path] = []
    try:
        for directory in (layout.cli_dir(task_id), layout.mcp_dir(task_id)):
            directory.mkdir(parents=True, exist_ok=True)
        paths.run_dir.mkdir()
        created.append(paths.run_dir)
        paths.commands_dir.mkdir()
        pointer = layout.compat_pointer(task_id, run_id)
        _make_pointer(layout, pointer, run_id)
        created.append(pointer)
    except OSError as exc:
        for path in reversed(created):
            _remove(path)
        where = exc.filename or paths.run_dir
        raise RunSetupError(f"cannot create run directory {where}: {exc.strerror or exc}") from exc
    return paths


def _make_pointer(layout: RunsLayout, pointer: Path, run_id: str) -> None:
    """A relative symlink where links work, else a stub manifest that redirects."""
    try:
        pointer.symlink_to(layout.compat_target(run_id), target_is_directory=True)
        return
    except OSError:
        if pointer.is_symlink() or pointer.exists():
            raise
    pointer.mkdir()
    atomic_write(pointer / "manifest.json", pointer_stub(layout.compat_target(run_id)))


def pointer_stub(target: str) -> bytes:
    """The stub ``manifest.json`` of a pointer directory, where symlinks cannot be made."""
    stub = {"redirect_to": target, "manifest": f"{target}/manifest.json", "created_at": now_iso()}
    return orjson.dumps(stub, option=orjson.OPT_INDENT_2) + b"\n"


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_symlink() or path.is_file():
            os.unlink(path)
        else:
            shutil.rmtree(path)
