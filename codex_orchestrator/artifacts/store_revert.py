"""``store revert TAG --branch B``: a new commit on B restoring a tag's files, history kept.

The new commit's tree is B's tree with the tagged commit's store directory in place of
B's own (plumbing on a private index, compare-and-swap on the ref, never forced). When
B is checked out in a worktree, that worktree must be clean; its index and files are
then moved to the new commit with a two-tree ``read-tree -m -u``, as a fast-forward would.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.artifacts import store_names as names
from codex_orchestrator.artifacts.gitrepo import ZERO_SHA, GitFailed, GitRepo
from codex_orchestrator.artifacts.store_identity import author_environment
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import StoreSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class Reverted:
    """The commit a revert made."""

    branch: str
    commit_sha: str
    reverted_to: str
    path: str

    def to_dict(self) -> dict[str, object]:
        """``{success, commit_sha, reverted_to, branch}``."""
        return {
            "success": True,
            "commit_sha": self.commit_sha,
            "reverted_to": self.reverted_to,
            "branch": self.branch,
        }


def revert_to_tag(repo: GitRepo, settings: StoreSettings, tag: str, branch: str) -> Reverted:
    """Commit ``tag``'s store directory onto ``branch``; refuse a dirty checkout of it."""
    names.check_name(tag, "tag")
    target = repo.ref(f"refs/tags/{tag}")
    if target is None:
        raise InvalidInput(f"no tag {tag}")
    directory = _store_path(repo, target, tag)
    ref = f"refs/heads/{branch}"
    if repo.run("check-ref-format", ref).returncode != 0:
        raise InvalidInput(f"invalid branch name {branch!r}")
    checkouts = _checkouts(repo, ref)
    for worktree in checkouts:
        if _dirty(repo, worktree):
            raise InvalidInput(
                f"{branch} is checked out in {worktree} with uncommitted changes; "
                "commit or stash them first"
            )
    head = repo.ref(ref)
    if head is None:
        raise InvalidInput(f"no branch {branch}")
    subtree = repo.out("rev-parse", f"{target}:{directory}")
    message = (
        f"store: revert {directory} to {tag}\n\nReverted-To: {tag} ({target})\n"
        f"Store-Path: {directory}\n"
    ).encode()
    with tempfile.TemporaryDirectory(prefix="codex-store-") as scratch:
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            **author_environment(settings.author),
        }
        repo.out("read-tree", head, env=env)
        repo.out("rm", "--cached", "-r", "-q", "-f", "--ignore-unmatch", "--", directory, env=env)
        repo.out("read-tree", f"--prefix={directory}/", subtree, env=env)
        tree = repo.out("write-tree", env=env)
        args = ["commit-tree", tree, "-p", head, *(["-S"] if settings.sign else [])]
        commit = repo.out(*args, env=env, stdin=message)
    moved = repo.run("update-ref", "-m", f"store revert to {tag}", ref, commit, head or ZERO_SHA)
    if not moved.ok:
        raise InvalidInput(f"{branch} moved while reverting; nothing changed, try again")
    for worktree in checkouts:
        # Clean, checked out: bring its index and files along, as a fast-forward would.
        updated = repo.run("read-tree", "-m", "-u", head, commit, cwd=worktree)
        if not updated.ok:
            raise GitFailed(f"{worktree}: could not update the checkout: {updated.error_text()}")
    return Reverted(branch=branch, commit_sha=commit, reverted_to=tag, path=directory)


def _store_path(repo: GitRepo, commit: str, tag: str) -> str:
    output = repo.out("log", "-1", f"--format={names.trailer_format()}", commit, "--")
    records = names.parse_trailer_records(output)
    directory = records[0].get("store_path") if records else None
    if not directory:
        raise InvalidInput(f"{tag} is not a store commit (no Store-Path trailer)")
    return directory


def _checkouts(repo: GitRepo, ref: str) -> list[Path]:
    """Worktrees that have ``ref`` checked out."""
    output = repo.out("worktree", "list", "--porcelain")
    found: list[Path] = []
    current: Path | None = None
    for line in output.splitlines():
        if line.startswith("worktree "):
            current = Path(line.removeprefix("worktree "))
        elif line == f"branch {ref}" and current is not None:
            found.append(current)
    return found


def _dirty(repo: GitRepo, worktree: Path) -> bool:
    status = repo.run("status", "--porcelain", "--untracked-files=no", cwd=worktree)
    return not status.ok or bool(status.stdout.strip())
