"""Real git repositories for the artifact store's tests (``import gitrepos``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import helpers

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    # `git status` must not refresh the index: the tests compare its bytes.
    "GIT_OPTIONAL_LOCKS": "0",
}


def git(repo: Path, *args: str, check: bool = True, stdin: bytes | None = None) -> str:
    """``git ARGS`` in ``repo`` as a developer would run it; stdout as text."""
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, input=stdin, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout.decode()


def make_repo(path: Path) -> Path:
    """A repository with one commit on ``main``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("project\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "init")
    return path


def make_bare(path: Path) -> Path:
    """An empty bare repository (a remote)."""
    git(path.parent, "init", "-q", "--bare", str(path))
    return path


def store(repo: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """``codex-orchestrator store ARGS`` as a subprocess in ``repo``."""
    return helpers.run_cli_subprocess(repo, "store", *args, env=env, timeout=timeout)


def commit_json(repo: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``store commit ARGS --format json``, asserted to succeed; its document."""
    result = store(repo, "commit", *args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return helpers.json_document(result)


def tree_files(repo: Path, rev: str) -> set[str]:
    """Every file path in ``rev``'s tree."""
    return set(git(repo, "ls-tree", "-r", "--name-only", rev).split())


def snapshot(repo: Path) -> tuple[str, str, bytes, str]:
    """What a user sees of their checkout: status, HEAD, the index's bytes, the stash."""
    return (
        git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all"),
        git(repo, "rev-parse", "HEAD"),
        (repo / ".git" / "index").read_bytes(),
        git(repo, "stash", "list"),
    )


def json_list(result: Any) -> list[Any]:
    """stdout parsed whole: exactly one JSON array."""
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, list), result.stdout
    return document
