"""One stage's artifacts while it runs: its workspace, its ``output.log``, then keeping.

``StageArtifacts.open`` makes the instance: an empty workspace (mode 0700) handed to
the stage as ``CODEX_ORCHESTRATOR_WORKSPACE``, and ``output.log`` opened for append.
``write`` appends output bytes as they arrive (streamed to disk, so memory stays
bounded whatever the stage prints). ``finish`` keeps the workspace and the stage's
globs whatever its outcome and writes the instance's ``metadata.json``.

Creating files is the dearest part of a short stage on some filesystems (a third of a
millisecond per inode on a busy ext4), so ``stage_instance`` can build an instance's
skeleton ahead of time, off the stage's path, in a staging directory beside
``instances/`` that readers never look at; ``open`` then moves it into place with one
rename.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.collect import remove_tree
from codex_orchestrator.artifacts.instances import instance_metadata, write_instance
from codex_orchestrator.artifacts.keep import keep_stage
from codex_orchestrator.artifacts.objects import ObjectStore
from codex_orchestrator.artifacts.records import KeepResult, Problem
from codex_orchestrator.model import CommandRecord
from codex_orchestrator.store.fsutil import write_all
from codex_orchestrator.store.layout import InstancePaths
from codex_orchestrator.store.pagecache import CacheTrim

WORKSPACE_ENV = "CODEX_ORCHESTRATOR_WORKSPACE"
WORKSPACE_MODE = 0o700
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC
STAGED_METADATA = ".metadata.json.staged"


@dataclass(frozen=True, slots=True)
class StagedInstance:
    """An instance skeleton built ahead: ``workspace/``, open ``output.log`` and an
    empty file that becomes ``metadata.json`` by a rename."""

    dir: Path
    log_fd: int

    def discard(self) -> None:
        """Close and remove it (it was never used)."""
        with contextlib.suppress(OSError):
            os.close(self.log_fd)
        remove_tree(self.dir)


def stage_instance(staging: Path) -> StagedInstance:
    """Build an instance skeleton at ``staging`` (a leftover there is replaced)."""
    if os.path.lexists(staging):
        remove_tree(staging)
    os.makedirs(staging)
    try:
        os.close(os.open(staging / STAGED_METADATA, _LOG_FLAGS, 0o644))
        log_fd = _furnish(InstancePaths(staging.name, staging))
        return StagedInstance(dir=staging, log_fd=log_fd)
    except BaseException:
        remove_tree(staging)
        raise


class StageArtifacts:
    """The instance of one running stage."""

    def __init__(
        self, instance: InstancePaths, store: ObjectStore, log_fd: int, *, staged: bool = False
    ) -> None:
        self.instance = instance
        self.store = store
        self._log_fd: int | None = log_fd
        self._trim = CacheTrim()
        # Built by stage_instance: metadata.json is written by renaming its empty file.
        self._staged = staged
        self.write_error: str | None = None
        # What ``finish`` kept and wrote: the run-end collect reuses it.
        self.result: tuple[KeepResult, dict[str, Any]] | None = None

    @classmethod
    def open(
        cls, instance: InstancePaths, store: ObjectStore, staged: StagedInstance | None = None
    ) -> StageArtifacts:
        """A fresh instance (an earlier attempt's, on resume, is replaced), moved into
        place from ``staged`` when one was built ahead."""
        if os.path.lexists(instance.dir):
            remove_tree(instance.dir)
        if staged is not None:
            try:
                _rename_into(staged.dir, instance.dir)
            except OSError:
                staged.discard()  # another filesystem, say: build it here instead
            else:
                return cls(instance, store, staged.log_fd, staged=True)
        try:
            os.mkdir(instance.dir)
        except FileNotFoundError:
            instance.dir.mkdir(parents=True)
        return cls(instance, store, _furnish(instance))

    @property
    def workspace(self) -> Path:
        """The directory the stage may write."""
        return self.instance.workspace

    def nothing_written(self) -> bool:
        """Whether the workspace is empty (or gone): keeping it is then only writing
        the instance's metadata."""
        try:
            with os.scandir(self.instance.workspace) as entries:
                return next(entries, None) is None
        except OSError:
            return True

    def write(self, data: bytes) -> None:
        """Append output bytes in arrival order (a full disk is reported, not raised)."""
        if self._log_fd is None or not data:
            return
        try:
            write_all(self._log_fd, data)
            self._trim.wrote(self._log_fd, len(data))
        except OSError as exc:
            self.write_error = f"output.log: {exc.strerror or exc}"
            self._close()

    def _close(self) -> None:
        if self._log_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._log_fd)
            self._log_fd = None

    def finish(
        self,
        record: CommandRecord,
        run_id: str,
        cwd: Path,
        globs: Sequence[str] = (),
        produced: Sequence[str] = (),
        root: Path | None = None,
    ) -> dict[str, Any]:
        """Keep the stage's files and write its ``metadata.json``; the metadata."""
        self._close()
        try:
            kept = keep_stage(
                self.store, self.instance.instance_id, self.workspace, cwd, globs, produced, root
            )
        except OSError as exc:
            problem = Problem(path=".", kind="unreadable", message=f"{exc.strerror or exc}")
            kept = KeepResult(errors=(problem,))
        if self.write_error is not None:
            problem = Problem(path="output.log", kind="unwritable", message=self.write_error)
            kept = KeepResult(
                files=kept.files, errors=(*kept.errors, problem), warnings=kept.warnings
            )
        metadata = instance_metadata(self.instance, record, kept, None, run_id)
        staged = self.instance.dir / STAGED_METADATA if self._staged else None
        write_instance(self.instance, metadata, kept, fresh=True, staged=staged)
        self.result = (kept, metadata)
        return metadata


def _furnish(instance: InstancePaths) -> int:
    """In an instance's new directory: ``workspace/`` (mode 0700 whatever the umask)
    and ``output.log``, whose descriptor (open for append) is returned."""
    os.mkdir(instance.workspace, WORKSPACE_MODE)
    os.chmod(instance.workspace, WORKSPACE_MODE)
    return os.open(instance.output_log, _LOG_FLAGS, 0o644)


def _rename_into(source: Path, target: Path) -> None:
    """Move a staged directory to ``target``, making ``target``'s parent if needed."""
    try:
        os.rename(source, target)
    except FileNotFoundError:
        if not os.path.isdir(source):
            raise
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
