"""Pushing store branches and tags, under a time limit; never forced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codex_orchestrator.artifacts import store_names as names
from codex_orchestrator.artifacts.gitrepo import GitRepo
from codex_orchestrator.model import StoreSettings

_UPDATED_FLAGS = frozenset({" ", "*", "+", "-"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PushOutcome:
    """What a push did: the refs it updated, found up to date, or had rejected."""

    remote: str
    pushed: bool
    error: str | None = None
    updated: tuple[str, ...] = ()
    up_to_date: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """As ``store push`` reports it."""
        return {
            "success": self.pushed,
            "remote": self.remote,
            "pushed": self.pushed,
            "push_error": self.error,
            "updated": list(self.updated),
            "up_to_date": list(self.up_to_date),
            "rejected": list(self.rejected),
        }


def remote_exists(repo: GitRepo, remote: str) -> bool:
    """A configured remote name, or something that looks like a URL or a path."""
    if "://" in remote or remote.startswith(("/", "./", "../")) or ":" in remote:
        return True
    return repo.run("remote", "get-url", remote).ok


def push_refs(repo: GitRepo, settings: StoreSettings, refspecs: Sequence[str]) -> PushOutcome:
    """``git push --porcelain`` of ``refspecs``; the whole push ends at the time limit."""
    remote = settings.remote
    if not refspecs:
        return PushOutcome(remote=remote, pushed=True)  # nothing in the store yet
    if not remote_exists(repo, remote):
        return PushOutcome(remote=remote, pushed=False, error=f"no remote named {remote!r}")
    limit = settings.push_timeout_seconds
    result = repo.run("push", "--porcelain", remote, *refspecs, timeout=limit)
    if result.timed_out:
        return PushOutcome(
            remote=remote, pushed=False, error=f"git push timed out after {limit:g} s"
        )
    updated, current, rejected = _parse(result.stdout.decode("utf-8", "replace"))
    if result.ok and not rejected:
        return PushOutcome(remote=remote, pushed=True, updated=updated, up_to_date=current)
    error = result.error_text() if not rejected else f"rejected: {', '.join(rejected)}"
    return PushOutcome(
        remote=remote,
        pushed=False,
        error=f"git push failed: {error}",
        updated=updated,
        up_to_date=current,
        rejected=rejected,
    )


def commit_refspecs(branch: str, commit_sha: str, new_tags: Sequence[str]) -> list[str]:
    """What one ``store commit`` pushes: its branch and the tags it created."""
    specs = [f"{commit_sha}:refs/heads/{branch}"]
    specs += [f"refs/tags/{tag}:refs/tags/{tag}" for tag in new_tags]
    return specs


def all_refspecs(repo: GitRepo, settings: StoreSettings) -> list[str]:
    """What ``store push`` pushes: every store branch and store tag (globs that match)."""
    # (refspec glob, for-each-ref pattern): a branch prefix matches at any depth.
    kinds = [
        (f"refs/heads/{settings.branch_prefix}/", f"refs/heads/{settings.branch_prefix}/"),
        (f"refs/tags/{names.CORR_PREFIX}", f"refs/tags/{names.CORR_PREFIX}*"),
        (f"refs/tags/{names.PROMPT_PREFIX}", f"refs/tags/{names.PROMPT_PREFIX}*"),
    ]
    specs = []
    for prefix, pattern in kinds:
        # git refuses a glob that matches nothing, so only those with refs are pushed.
        if repo.out("for-each-ref", "--count=1", "--format=%(refname)", pattern):
            specs.append(f"{prefix}*:{prefix}*")
    return specs


def _parse(output: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    updated: list[str] = []
    current: list[str] = []
    rejected: list[str] = []
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or len(parts[0]) != 1:
            continue
        flag, refs = parts[0], parts[1]
        target = refs.rsplit(":", 1)[-1]
        if flag == "=":
            current.append(target)
        elif flag == "!":
            rejected.append(target)
        elif flag in _UPDATED_FLAGS:
            updated.append(target)
    return tuple(updated), tuple(current), tuple(rejected)
