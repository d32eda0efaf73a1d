"""A git repository driven through plumbing commands, for the artifact store.

Every command runs through ``engine.spawn`` with prompts off and the C locale. The
user's index is never used: callers that stage pass their own ``GIT_INDEX_FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.engine.spawn import Completed, spawn
from codex_orchestrator.errors import ExitCode, InvalidInput, OrchestratorError

ZERO_SHA = "0" * 40


class GitFailed(OrchestratorError):
    """A git command failed where it should not have (exit 3)."""

    exit_code = ExitCode.INTERNAL


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment for git: no prompts, no user index, stable messages."""
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_INDEX_FILE", "GIT_WORK_TREE")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    env["GIT_LITERAL_PATHSPECS"] = "1"  # store paths are names, never globs
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class GitRepo:
    """A repository: its top-level directory (where plain files live) and its git dir."""

    root: Path
    git_dir: Path

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        """The repository containing ``start``; exit 2 when there is none."""
        result = spawn(
            ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir"],
            cwd=start,
            env=git_environment(),
        )
        if not result.ok:
            raise InvalidInput(f"{start}: not inside a git repository ({result.error_text()})")
        lines = result.stdout.decode().splitlines()
        if len(lines) < 2 or not lines[0]:
            raise InvalidInput(f"{start}: a bare git repository has no files to commit")
        return cls(root=Path(lines[0]), git_dir=Path(lines[1]))

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        cwd: Path | None = None,
    ) -> Completed:
        """``git ARGS`` in the repository; the result whatever it is."""
        return spawn(
            ["git", *args],
            cwd=cwd or self.root,
            env=git_environment(env),
            stdin=stdin,
            timeout=timeout,
        )

    def out(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: Path | None = None,
    ) -> str:
        """``git ARGS``' stdout, stripped; GitFailed when it fails."""
        result = self.run(*args, env=env, stdin=stdin, cwd=cwd)
        if not result.ok:
            raise GitFailed(f"git {args[0]} failed: {result.error_text()}")
        return result.stdout.decode("utf-8", "surrogateescape").strip()

    def ref(self, name: str) -> str | None:
        """The commit a ref points at, or None when it does not exist."""
        result = self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        return result.stdout.decode().strip() if result.ok else None

    def config(self, key: str) -> str | None:
        """A git config value, or None."""
        result = self.run("config", "--get", key)
        return result.stdout.decode().strip() if result.ok else None
