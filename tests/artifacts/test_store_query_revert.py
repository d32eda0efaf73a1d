"""``store list``, ``store get`` and ``store revert`` (rollback, history kept, dirty refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helpers
import pytest
from gitrepos import commit_json, git, json_list, make_repo, snapshot, store, tree_files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    (repo / "codex.orchestrator.json").write_text('{"pipelines": [], "store": {"autoPush": false}}')
    git(repo, "add", "codex.orchestrator.json")
    git(repo, "commit", "-q", "-m", "config")
    return repo


def commit_version(repo: Path, workflow: str, task: str, corr: str, text: str) -> dict[str, Any]:
    (repo / "gen").mkdir(exist_ok=True)
    (repo / "gen" / "model.py").write_text(text)
    return commit_json(
        repo, "--task", task, "--workflow", workflow, "gen/model.py", "--correlation-id", corr
    )


def test_list_is_newest_first_and_filters_by_workflow(repo: Path) -> None:
    first = commit_version(repo, "wf-a", "T1", "c1", "v1\n")
    second = commit_version(repo, "wf-b", "T2", "c2", "v2\n")
    third = commit_version(repo, "wf-a", "T1", "c3", "v3\n")

    listed = json_list(store(repo, "list", "--format", "json"))
    assert [e["commit_sha"] for e in listed] == [
        third["commit_sha"],
        second["commit_sha"],
        first["commit_sha"],
    ]
    assert listed[0]["correlation_id"] == "c3"
    assert listed[0]["branch"] == "ai/generated/wf-a/T1"
    assert listed[0]["task_id"] == "T1"
    assert listed[0]["tags"] == ["corr_c3"]

    only_a = json_list(store(repo, "list", "--workflow", "wf-a", "--format", "json"))
    assert [e["correlation_id"] for e in only_a] == ["c3", "c1"]
    limited = json_list(store(repo, "list", "--limit", "1", "--format", "json"))
    assert [e["correlation_id"] for e in limited] == ["c3"]
    text = store(repo, "list")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].endswith("ai/generated/wf-a/T1  corr_c3")


def test_get_shows_the_commit_and_its_metadata(repo: Path) -> None:
    done = commit_version(repo, "wf", "T1", "abc", "v1\n")
    for given in ("abc", "corr_abc"):
        result = store(repo, "get", given, "--format", "json")
        assert result.returncode == 0, result.stderr
        entry = helpers.json_document(result)
        assert entry["commit_sha"] == done["commit_sha"]
        assert entry["tag"] == "corr_abc"
        assert entry["metadata"]["correlation_id"] == "abc"
        assert [f["path"] for f in entry["metadata"]["files"]] == ["gen/model.py"]
    missing = store(repo, "get", "nope")
    assert missing.returncode == 2
    assert helpers.one_error_line(missing) == "no store commit is tagged corr_nope"


def test_revert_restores_a_tag_onto_a_checked_out_clean_branch(repo: Path) -> None:
    commit_version(repo, "wf", "T1", "good", "good version\n")
    commit_version(repo, "wf", "T1", "bad", "bad version\n")
    # main carries the bad version (as a merge of the store branch would).
    git(repo, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "ai/generated/wf/T1")
    (repo / "gen" / "model.py").unlink()  # the untracked source the commits were made from
    head_before = git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "show", "HEAD:artifacts/T1/gen/model.py") == "bad version\n"

    result = store(repo, "revert", "corr_good", "--branch", "main", "--format", "json")

    assert result.returncode == 0, result.stderr
    document = helpers.json_document(result)
    assert list(document) == ["success", "commit_sha", "reverted_to", "branch"]
    assert document["reverted_to"] == "corr_good"
    assert document["branch"] == "main"
    head = git(repo, "rev-parse", "HEAD").strip()
    assert head == document["commit_sha"]
    assert git(repo, "rev-parse", "HEAD^").strip() == head_before  # history kept
    assert git(repo, "show", "HEAD:artifacts/T1/gen/model.py") == "good version\n"
    # The checkout followed: files and index match the new commit.
    assert (repo / "artifacts/T1/gen/model.py").read_text() == "good version\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert "codex.orchestrator.json" in tree_files(repo, "HEAD")


def test_revert_refuses_a_dirty_checked_out_branch(repo: Path) -> None:
    commit_version(repo, "wf", "T1", "good", "good version\n")
    (repo / "README.md").write_text("edited\n")
    before = snapshot(repo)
    result = store(repo, "revert", "corr_good", "--branch", "main")
    assert result.returncode == 2
    assert "main is checked out" in helpers.one_error_line(result)
    assert snapshot(repo) == before


def test_revert_onto_a_branch_not_checked_out_and_unknown_tags(repo: Path) -> None:
    commit_version(repo, "wf", "T1", "good", "good version\n")
    git(repo, "branch", "release")
    (repo / "README.md").write_text("edited, and that is fine\n")
    before = snapshot(repo)
    document = helpers.json_document(
        store(repo, "revert", "corr_good", "--branch", "release", "--format", "json")
    )
    assert snapshot(repo) == before
    assert git(repo, "show", "release:artifacts/T1/gen/model.py") == "good version\n"
    assert git(repo, "rev-parse", "release").strip() == document["commit_sha"]
    unknown = store(repo, "revert", "corr_nope", "--branch", "release")
    assert unknown.returncode == 2
    assert helpers.one_error_line(unknown) == "no tag corr_nope"
