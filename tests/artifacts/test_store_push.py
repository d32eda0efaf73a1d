"""Pushing: a local bare remote, a remote that hangs (ended at the limit), ``store push``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import helpers
import orjson
import psutil
import pytest
from gitrepos import commit_json, git, make_bare, make_repo, store


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def configure(repo: Path, **store_keys: object) -> None:
    document = {"pipelines": [], "store": store_keys}
    (repo / "codex.orchestrator.json").write_bytes(orjson.dumps(document))


def test_commit_pushes_branch_and_tags_to_the_remote(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(tmp_path / "remote.git")
    git(repo, "remote", "add", "origin", str(bare))
    (repo / "a.txt").write_text("a\n")
    document = commit_json(
        repo,
        "--task",
        "T1",
        "--workflow",
        "wf",
        "a.txt",
        "--correlation-id",
        "c1",
        "--prompt-hash",
        "p1",
    )
    assert document["pushed"] is True
    assert document["push_error"] is None
    sha = document["commit_sha"]
    assert git(bare, "rev-parse", "ai/generated/wf/T1").strip() == sha
    assert git(bare, "rev-parse", "corr_c1").strip() == sha
    assert git(bare, "rev-parse", "prompt_p1").strip() == sha


def fake_ssh(tmp_path: Path) -> tuple[Path, Path]:
    """An ``ssh`` that records its pid and hangs, as an unreachable host does."""
    pid_file = tmp_path / "ssh.pid"
    script = tmp_path / "hanging-ssh"
    script.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 300\n')
    script.chmod(0o755)
    return script, pid_file


@pytest.mark.slow
def test_a_hanging_remote_is_ended_at_the_limit_and_store_push_retries(
    repo: Path, tmp_path: Path
) -> None:
    script, pid_file = fake_ssh(tmp_path)
    configure(repo, pushTimeoutSeconds=1)
    git(repo, "remote", "add", "origin", "ssh://git@unreachable.invalid/repo.git")
    (repo / "a.txt").write_text("a\n")
    env = {"GIT_SSH_COMMAND": str(script)}

    result = store(
        repo, "commit", "--task", "T1", "--workflow", "wf", "a.txt", "--format", "json", env=env
    )

    assert result.returncode == 0, result.stderr
    document = helpers.json_document(result)
    assert document["success"] is True
    assert document["pushed"] is False
    assert document["push_error"] == "git push timed out after 1 s"
    assert "warning: committed locally; not pushed: git push timed out" in result.stderr
    assert git(repo, "rev-parse", "ai/generated/wf/T1").strip() == document["commit_sha"]
    ssh_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(ssh_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(ssh_pid) or psutil.Process(ssh_pid).status() == "zombie"

    # The remote comes back: `store push` sends what is not there yet.
    bare = make_bare(tmp_path / "remote.git")
    git(repo, "remote", "set-url", "origin", str(bare))
    pushed = store(repo, "push", "--format", "json")
    assert pushed.returncode == 0, pushed.stderr
    outcome = helpers.json_document(pushed)
    assert outcome["pushed"] is True
    assert "refs/heads/ai/generated/wf/T1" in outcome["updated"]
    assert git(bare, "rev-parse", "ai/generated/wf/T1").strip() == document["commit_sha"]
    again = helpers.json_document(store(repo, "push", "--format", "json"))
    assert again["updated"] == []
    assert "refs/heads/ai/generated/wf/T1" in again["up_to_date"]


def test_a_failing_push_still_commits_and_store_push_exits_1(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", str(tmp_path / "does-not-exist.git"))
    (repo / "a.txt").write_text("a\n")
    result = store(repo, "commit", "--task", "T1", "--workflow", "wf", "a.txt", "--format", "json")
    assert result.returncode == 0
    document = helpers.json_document(result)
    assert document["pushed"] is False
    assert document["push_error"].startswith("git push failed: ")
    assert "warning: committed locally; not pushed" in result.stderr
    pushed = store(repo, "push")
    assert pushed.returncode == 1
    assert "not pushed to origin" in pushed.stdout


def test_no_push_and_autopush_off_do_not_push(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(tmp_path / "remote.git")
    git(repo, "remote", "add", "origin", str(bare))
    (repo / "a.txt").write_text("a\n")
    document = commit_json(repo, "--task", "T1", "--workflow", "wf", "a.txt", "--no-push")
    assert (document["pushed"], document["push_error"]) == (False, None)
    configure(repo, autoPush=False)
    document = commit_json(repo, "--task", "T2", "--workflow", "wf", "a.txt")
    assert (document["pushed"], document["push_error"]) == (False, None)
    assert git(bare, "for-each-ref") == ""
    assert os.listdir(bare / "refs" / "heads") == []


def test_store_push_with_nothing_in_the_store_succeeds(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(tmp_path / "remote.git")
    git(repo, "remote", "add", "origin", str(bare))
    result = store(repo, "push", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert helpers.json_document(result)["updated"] == []
    assert git(bare, "for-each-ref") == ""
