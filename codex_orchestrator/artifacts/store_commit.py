"""``store commit``: gather the files, commit them, push when configured; the result document."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.blobs import CommitFile
from codex_orchestrator.artifacts.gitrepo import GitRepo
from codex_orchestrator.artifacts.gitstore import CommitRequest, Committed, commit_files
from codex_orchestrator.artifacts.store_push import PushOutcome, commit_refspecs, push_refs
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import StoreSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreCommitRequest:
    """``store commit`` as asked on the command line (or by a pipeline's ``store`` key)."""

    cwd: Path
    settings: StoreSettings
    workflow_id: str
    task_id: str
    paths: tuple[str, ...] = ()
    files: tuple[CommitFile, ...] = ()  # already gathered (a run's kept artifacts)
    run_id: str | None = None
    correlation_id: str | None = None
    prompt_hash: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    test_metrics: Mapping[str, Any] | None = None
    push: bool = True
    require_correlation_id: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreCommitResult:
    """The commit and its push; ``document()`` is the JSON LAYERS.md specifies."""

    committed: Committed
    push: PushOutcome | None

    def document(self) -> dict[str, Any]:
        """``{success, branch, commit_sha, tags, pushed, push_error, error, files}``."""
        return {
            "success": True,
            "branch": self.committed.branch,
            "commit_sha": self.committed.commit_sha,
            "tags": list(self.committed.tags),
            "pushed": bool(self.push and self.push.pushed),
            "push_error": self.push.error if self.push else None,
            "error": None,
            "files": [blob.path for blob in self.committed.files],
        }


def failed_document(error: str) -> dict[str, Any]:
    """The result document of a refused or failed commit."""
    return {
        "success": False,
        "branch": None,
        "commit_sha": None,
        "tags": [],
        "pushed": False,
        "push_error": None,
        "error": error,
        "files": [],
    }


def store_commit(request: StoreCommitRequest) -> StoreCommitResult:
    """Commit the request's files onto the store branch, then push if asked."""
    repo = GitRepo.discover(request.cwd)
    correlation_id = request.correlation_id
    if correlation_id is None:
        if request.require_correlation_id:
            raise InvalidInput("a correlation id is required: pass --correlation-id")
        correlation_id = uuid.uuid4().hex[:16]
    files = request.files or tuple(gather_paths(repo, request.cwd, request.paths))
    if not files and request.run_id is None:
        raise InvalidInput("nothing to commit: give at least one file")
    committed = commit_files(
        CommitRequest(
            repo=repo,
            settings=request.settings,
            workflow_id=request.workflow_id,
            task_id=request.task_id,
            files=files,
            run_id=request.run_id,
            correlation_id=correlation_id,
            prompt_hash=request.prompt_hash,
            meta=request.meta,
            test_metrics=request.test_metrics,
        )
    )
    push = None
    if request.push and request.settings.auto_push:
        specs = commit_refspecs(committed.branch, committed.commit_sha, committed.new_tags)
        push = push_refs(repo, request.settings, specs)
    return StoreCommitResult(committed=committed, push=push)


def gather_paths(repo: GitRepo, cwd: Path, paths: Sequence[str]) -> list[CommitFile]:
    """Files (directories walked) under the repository root, keeping their relative paths."""
    root = repo.root.resolve()
    found: list[CommitFile] = []
    for given in paths:
        candidate = cwd / given
        # The last component may be a link (committed as a link); its parents are resolved.
        absolute = candidate.parent.resolve() / candidate.name
        try:
            relative = absolute.relative_to(root)
        except ValueError:
            raise InvalidInput(f"{given}: outside the repository {root}") from None
        if not os.path.lexists(absolute):
            raise InvalidInput(f"{given}: no such file")
        if ".git" in relative.parts or not relative.parts:
            raise InvalidInput(f"{given}: not a file that can be committed")
        if absolute.is_dir() and not absolute.is_symlink():
            found += _walk(absolute, root)
        elif absolute.is_file() or absolute.is_symlink():
            found.append(_file(absolute, root))
        else:
            raise InvalidInput(f"{given}: not a regular file")
    return found


def _walk(directory: Path, root: Path) -> list[CommitFile]:
    found: list[CommitFile] = []
    for current, dirs, names in os.walk(directory):
        links = [d for d in dirs if (Path(current) / d).is_symlink()]
        found += [_file(Path(current) / link, root) for link in sorted(links)]
        dirs[:] = sorted(d for d in dirs if d != ".git" and d not in links)
        for name in sorted(names):
            path = Path(current) / name
            if path.is_file() or path.is_symlink():
                found.append(_file(path, root))
    return found


def _file(path: Path, root: Path) -> CommitFile:
    relative = path.relative_to(root).as_posix()
    return CommitFile(path=relative, source=path, shown=relative)
