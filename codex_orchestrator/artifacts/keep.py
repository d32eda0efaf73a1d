"""Keeping one stage: its workspace in place, plus the files its globs match.

The workspace is already where kept files live (``instances/<NN-slug>/workspace``):
each regular file becomes a read-only link into the object store. Files matching the
stage's ``artifacts`` globs (relative to its cwd) are copied in beside them. Links are
kept as links when they stay inside the tree they come from; links leading outside,
FIFOs, sockets, devices, unreadable and vanished files are left out and recorded, and
the rest is kept.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from codex_orchestrator.artifacts.objects import ObjectStore, describe_special, file_sha256
from codex_orchestrator.artifacts.records import (
    FileKind,
    KeepResult,
    KeptFile,
    Problem,
    ProblemKind,
)
from codex_orchestrator.errors import InvalidInput

NO_MATCH = "the glob matched nothing"
NO_ARTIFACT = "the registry artifact's file does not exist"


def validate_glob(pattern: str) -> str:
    """A glob is relative to the stage's cwd and stays below it."""
    if not pattern or pattern.startswith("/") or "\\" in pattern:
        raise InvalidInput(f"artifact glob {pattern!r} must be a relative path")
    if ".." in Path(pattern).parts:
        raise InvalidInput(f"artifact glob {pattern!r} must not contain '..'")
    return pattern


class _Keeper:
    def __init__(self, store: ObjectStore, instance_id: str, workspace: Path) -> None:
        self.store = store
        self.instance_id = instance_id
        self.workspace = workspace
        self.files: dict[str, KeptFile] = {}
        # Paths of the stage's cwd already dealt with (a second glob matching one is no news).
        self.matched: set[str] = set()
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: str, kind: ProblemKind, message: str) -> None:
        self.errors.append(Problem(path=path, kind=str(kind), message=message))

    def adopt_workspace(self) -> None:
        prefix = len(str(self.workspace)) + 1
        for path, info in _walk(self.workspace):
            rel = str(path)[prefix:]
            if stat.S_ISLNK(info.st_mode):
                self.keep_link_in_place(path, rel, self.workspace)
                continue
            special = describe_special(info.st_mode)
            if special is not None:
                self.problem(rel, ProblemKind.SPECIAL, f"{special} is not kept")
                _remove(path)
                continue
            try:
                stored = self.store.adopt(path)
            except FileNotFoundError:
                self.problem(rel, ProblemKind.VANISHED, "removed while it was being kept")
                continue
            except (OSError, ValueError) as exc:
                self.problem(rel, ProblemKind.UNREADABLE, _reason(exc))
                _remove(path)
                continue
            self.add_file(rel, stored.size, stored.sha256, stored.permissions)

    def keep_link_in_place(self, path: Path, rel: str, tree: Path) -> None:
        try:
            target = os.readlink(path)
        except FileNotFoundError:
            self.problem(rel, ProblemKind.VANISHED, "removed while it was being kept")
            return
        if not _stays_inside(path, target, tree):
            self.problem(rel, ProblemKind.LINK_OUTSIDE, f"link to {target} leads outside")
            _remove(path)
            return
        self.files[rel] = KeptFile(
            instance=self.instance_id,
            path=rel,
            size=len(os.fsencode(target)),
            sha256=None,
            permissions="0777",
            kind=FileKind.SYMLINK,
            target=target,
        )

    def add_file(self, rel: str, size: int, sha256: str, permissions: int) -> None:
        self.files[rel] = KeptFile(
            instance=self.instance_id,
            path=rel,
            size=size,
            sha256=sha256,
            permissions=f"{permissions:04o}",
        )

    def keep_matches(
        self, cwd: Path, pattern: str, shown: str | None = None, missing: str = NO_MATCH
    ) -> None:
        matches = sorted(glob.glob(pattern, root_dir=cwd, recursive=True))
        if not matches:
            self.warnings.append(Problem(path=shown or pattern, kind="no-match", message=missing))
            return
        for match in matches:
            source = cwd / match
            with contextlib.suppress(OSError):
                if source.resolve().is_relative_to(self.workspace.resolve()):
                    continue  # the workspace is kept already
            try:
                info = source.lstat()
            except FileNotFoundError:
                self.problem(match, ProblemKind.VANISHED, "removed while it was being kept")
                continue
            if stat.S_ISDIR(info.st_mode):
                for path, child in _walk(source):
                    self.keep_copy(cwd, path, child)
            else:
                self.keep_copy(cwd, source, info)

    def keep_copy(self, cwd: Path, source: Path, info: os.stat_result) -> None:
        rel = source.relative_to(cwd).as_posix()
        destination = self.workspace / rel
        if rel in self.matched:
            return  # matched by an earlier glob
        self.matched.add(rel)
        if rel in self.files or os.path.lexists(destination):
            # The workspace has something at this path: kept, and the same bytes as
            # this file, or this one is lost from the evidence and must be said so.
            if not self._same_file(rel, source, info):
                self.problem(rel, ProblemKind.SHADOWED, "the workspace has another file here")
            return
        if stat.S_ISLNK(info.st_mode):
            try:
                target = os.readlink(source)
            except FileNotFoundError:
                self.problem(rel, ProblemKind.VANISHED, "removed while it was being kept")
                return
            if not _stays_inside(source, target, cwd):
                self.problem(rel, ProblemKind.LINK_OUTSIDE, f"link to {target} leads outside")
                return
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, destination)
            self.keep_link_in_place(destination, rel, self.workspace)
            return
        special = describe_special(info.st_mode)
        if special is not None:
            self.problem(rel, ProblemKind.SPECIAL, f"{special} is not kept")
            return
        try:
            stored = self.store.store_copy(source, destination)
        except FileNotFoundError:
            self.problem(rel, ProblemKind.VANISHED, "removed while it was being kept")
            return
        except (OSError, ValueError) as exc:
            self.problem(rel, ProblemKind.UNREADABLE, _reason(exc))
            return
        self.add_file(rel, stored.size, stored.sha256, stored.permissions)

    def _same_file(self, rel: str, source: Path, info: os.stat_result) -> bool:
        """Whether the workspace's kept ``rel`` is ``source`` over again (same kind and
        bytes, or the same link target)."""
        kept = self.files.get(rel)
        if kept is None:
            return False
        if stat.S_ISLNK(info.st_mode):
            with contextlib.suppress(OSError):
                return kept.kind is FileKind.SYMLINK and kept.target == os.readlink(source)
            return False
        if kept.kind is not FileKind.FILE or kept.size != info.st_size:
            return False
        try:
            return file_sha256(source) == kept.sha256
        except OSError:
            return False


def keep_stage(
    store: ObjectStore,
    instance_id: str,
    workspace: Path,
    cwd: Path,
    globs: Sequence[str] = (),
    produced: Sequence[str] = (),
    root: Path | None = None,
) -> KeepResult:
    """Keep a finished stage's workspace, glob matches and produced files; report problems.

    ``globs`` are relative to ``cwd``; ``produced`` (registry artifact paths) to ``root``.
    """
    keeper = _Keeper(store, instance_id, workspace)
    if not os.path.isdir(workspace):  # the stage removed it (a stat, not a failing mkdir)
        workspace.mkdir(parents=True, exist_ok=True)
    keeper.adopt_workspace()
    for pattern in globs:
        keeper.keep_matches(cwd, validate_glob(pattern))
    for path in produced:
        # A registry path is a file name, not a pattern (the registry checked it stays inside).
        keeper.keep_matches(root or cwd, glob.escape(path), path, NO_ARTIFACT)
    files = tuple(keeper.files[name] for name in sorted(keeper.files))
    return KeepResult(files=files, errors=tuple(keeper.errors), warnings=tuple(keeper.warnings))


def scan_tree(instance_id: str, workspace: Path) -> Iterator[KeptFile]:
    """Entries of a workspace as they are now (live files: no digest)."""
    for path, info in _walk(workspace):
        rel = path.relative_to(workspace).as_posix()
        if stat.S_ISLNK(info.st_mode):
            with contextlib.suppress(OSError):
                target = os.readlink(path)
                yield KeptFile(
                    instance=instance_id,
                    path=rel,
                    size=len(os.fsencode(target)),
                    sha256=None,
                    permissions="0777",
                    kind=FileKind.SYMLINK,
                    target=target,
                )
        elif stat.S_ISREG(info.st_mode):
            yield KeptFile(
                instance=instance_id,
                path=rel,
                size=info.st_size,
                sha256=None,
                permissions=f"{stat.S_IMODE(info.st_mode):04o}",
            )


def _walk(top: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every non-directory below ``top`` (links not followed), sorted, with its lstat."""
    try:
        entries = sorted(os.scandir(top), key=lambda entry: entry.name)
    except OSError:  # vanished, or a directory we may not list: nothing below is kept
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(Path(entry.path))
        else:
            yield Path(entry.path), info


def _stays_inside(link: Path, target: str, tree: Path) -> bool:
    if os.path.isabs(target):
        return False
    resolved = os.path.normpath(os.path.join(os.path.dirname(link), target))
    return Path(resolved).is_relative_to(os.path.normpath(tree))


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    return str(exc)
