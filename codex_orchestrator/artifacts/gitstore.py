"""``store commit``: files onto the store branch, tagged, without touching anyone's checkout.

Everything happens in git plumbing on a private index (``GIT_INDEX_FILE`` in a
temporary directory): blobs are written once, then, until the ref update wins, the
branch's current head is read into the private index, the store directory is
replaced, a tree and a commit are written, and one ``update-ref --stdin`` transaction
moves the branch from the head we read (compare-and-swap) and creates the tags. The
user's working tree, index, HEAD and stash are never read or written.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator import __version__
from codex_orchestrator.artifacts import store_names as names
from codex_orchestrator.artifacts.blobs import Blob, CommitFile, write_blobs
from codex_orchestrator.artifacts.gitrepo import ZERO_SHA, GitFailed, GitRepo
from codex_orchestrator.artifacts.secrets import Baseline, ScanTarget, SecretScanner, SecretsFound
from codex_orchestrator.artifacts.store_identity import author_environment
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import StoreSettings, now_iso

METADATA_VERSION = 1
MAX_ATTEMPTS = 50


class CorrelationTaken(InvalidInput):
    """The correlation id is already tagged on another commit (exit 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitRequest:
    """What to commit where, and the metadata that goes with it."""

    repo: GitRepo
    settings: StoreSettings
    workflow_id: str
    task_id: str
    files: tuple[CommitFile, ...]
    run_id: str | None = None
    correlation_id: str | None = None
    prompt_hash: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    test_metrics: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Committed:
    """A commit that landed on its branch."""

    branch: str
    commit_sha: str
    tags: tuple[str, ...]
    new_tags: tuple[str, ...]
    files: tuple[Blob, ...]
    store_path: str


def commit_files(request: CommitRequest) -> Committed:
    """Scan, then commit ``request.files`` under the store path; raise when refused."""
    repo, settings = request.repo, request.settings
    workflow_id = names.check_name(request.workflow_id, "workflow id")
    task_id = names.check_task(request.task_id)
    branch = names.branch_name(settings, workflow_id, task_id)
    directory = names.store_path(settings, workflow_id, task_id)
    _check_paths(request.files)
    corr = names.correlation_tag(request.correlation_id) if request.correlation_id else None
    prompt = names.prompt_tag(request.prompt_hash) if request.prompt_hash else None
    if corr is not None and repo.ref(f"refs/tags/{corr}") is not None:
        raise CorrelationTaken(f"correlation id {corr} is already tagged on another commit")
    if settings.scan_secrets:
        _scan(repo, settings, request.files)
    fields = {
        "workflow_id": workflow_id,
        "task_id": task_id,
        "run_id": request.run_id,
        "correlation_id": corr.removeprefix(names.CORR_PREFIX) if corr else None,
        "prompt_hash": request.prompt_hash,
        "store_path": directory,
        "branch": branch,
    }
    with tempfile.TemporaryDirectory(prefix="codex-store-") as scratch_name:
        scratch = Path(scratch_name)
        blobs = write_blobs(repo, request.files, scratch, [])
        metadata = _metadata(request, fields, blobs)
        (meta_blob,) = write_blobs(repo, [], scratch, [(names.METADATA_NAME, metadata)])
        entries = [_under(directory, blob) for blob in (*blobs, meta_blob)]
        subject = f"store: {workflow_id}/{task_id}" + (f" ({corr})" if corr else "")
        commit_sha, new_tags = _land(
            repo,
            settings,
            scratch / "index",
            branch=branch,
            directory=directory,
            entries=entries,
            message=names.message(subject, fields),
            tags=[tag for tag in (corr, prompt) if tag],
        )
    return Committed(
        branch=branch,
        commit_sha=commit_sha,
        tags=tuple(tag for tag in (corr, prompt) if tag),
        new_tags=new_tags,
        files=tuple(_under(directory, blob) for blob in blobs),
        store_path=directory,
    )


def _check_paths(files: Sequence[CommitFile]) -> None:
    seen: set[str] = set()
    for item in files:
        parts = item.path.split("/")
        if item.path.startswith("/") or any(part in ("", ".", "..", ".git") for part in parts):
            raise InvalidInput(f"{item.shown}: not a path that can be committed")
        if item.path == names.METADATA_NAME:
            raise InvalidInput(f"{item.shown}: {names.METADATA_NAME} is written by the store")
        if item.path in seen:
            raise InvalidInput(f"{item.shown}: given twice")
        seen.add(item.path)


def _scan(repo: GitRepo, settings: StoreSettings, files: Sequence[CommitFile]) -> None:
    scanner = SecretScanner(settings.secret_patterns, Baseline.load(repo.root))
    targets = [
        ScanTarget(path=item.shown, source=item.source)
        for item in files
        if not item.source.is_symlink()
    ]
    findings = scanner.scan(targets)
    if findings:
        raise SecretsFound(findings)


def _metadata(
    request: CommitRequest, fields: Mapping[str, str | None], blobs: Sequence[Blob]
) -> bytes:
    meta = dict(request.meta)
    document: dict[str, Any] = {
        "version": METADATA_VERSION,
        "workflow_id": fields["workflow_id"],
        "task_id": fields["task_id"],
        "run_id": fields["run_id"],
        "correlation_id": fields["correlation_id"],
        "prompt_hash": fields["prompt_hash"],
        "commit_timestamp": now_iso(),
        "agent_version": meta.pop("agent_version", None) or f"codex-orchestrator {__version__}",
        "llm_version": meta.pop("llm_version", None),
        "test_metrics": meta.pop("test_metrics", None) or request.test_metrics or {},
        "files": [blob.entry() for blob in blobs],
    }
    if meta:
        document["meta"] = meta
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def _under(directory: str, blob: Blob) -> Blob:
    return Blob(
        path=f"{directory}/{blob.path}",
        mode=blob.mode,
        oid=blob.oid,
        sha256=blob.sha256,
        size=blob.size,
    )


def _land(
    repo: GitRepo,
    settings: StoreSettings,
    index: Path,
    *,
    branch: str,
    directory: str,
    entries: Sequence[Blob],
    message: bytes,
    tags: Sequence[str],
) -> tuple[str, tuple[str, ...]]:
    """Commit on top of the branch's head; retry until the compare-and-swap wins."""
    env = {"GIT_INDEX_FILE": str(index), **author_environment(settings.author)}
    ref = f"refs/heads/{branch}"
    for attempt in range(MAX_ATTEMPTS):
        parent = repo.ref(ref)
        tree = build_tree(repo, env, index, parent, directory, entries)
        args = ["commit-tree", tree, *(["-p", parent] if parent else [])]
        if settings.sign:
            args.append("-S")
        signed = repo.run(*args, env=env, stdin=message)
        if not signed.ok:
            raise GitFailed(f"git commit-tree failed: {signed.error_text()}")
        commit = signed.stdout.decode().strip()
        fresh = [tag for tag in tags if repo.ref(f"refs/tags/{tag}") is None]
        lines = [f"update {ref} {commit} {parent or ZERO_SHA}"]
        lines += [f"create refs/tags/{tag} {commit}" for tag in fresh]
        result = repo.run("update-ref", "--stdin", stdin=("\n".join(lines) + "\n").encode())
        if result.ok:
            return commit, tuple(fresh)
        corr = next((tag for tag in tags if tag.startswith(names.CORR_PREFIX)), None)
        if corr is not None and repo.ref(f"refs/tags/{corr}") not in (None, commit):
            raise CorrelationTaken(f"correlation id {corr} is already tagged on another commit")
        # Another commit won the race: wait a moment, then build on the new head.
        time.sleep(random.uniform(0.005, 0.05) * min(attempt + 1, 8))
    raise GitFailed(f"{branch}: the branch kept moving; gave up after {MAX_ATTEMPTS} attempts")


def build_tree(
    repo: GitRepo,
    env: Mapping[str, str],
    index: Path,
    parent: str | None,
    directory: str,
    entries: Sequence[Blob],
) -> str:
    """The parent's tree with ``directory`` replaced by ``entries``; its tree id."""
    index.unlink(missing_ok=True)
    lines: list[bytes] = []
    if parent:
        repo.out("read-tree", parent, env=env)
        old = repo.out("ls-files", "-z", "--", f"{directory}/", env=env)
        removed = [path for path in old.split("\0") if path]
        lines += [f"0 {ZERO_SHA}\t{path}".encode("utf-8", "surrogateescape") for path in removed]
    lines += [
        f"{blob.mode} {blob.oid}\t{blob.path}".encode("utf-8", "surrogateescape")
        for blob in entries
    ]
    if lines:
        stdin = b"\0".join(lines) + b"\0"
        repo.out("update-index", "--add", "-z", "--index-info", env=env, stdin=stdin)
    return repo.out("write-tree", env=env)
