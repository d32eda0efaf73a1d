"""``store commit`` in real repositories: plumbing only, history kept, tags, refusals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import helpers
import orjson
import pytest
from gitrepos import commit_json, git, make_repo, snapshot, store, tree_files

RESULT_KEYS = ["success", "branch", "commit_sha", "tags", "pushed", "push_error", "error", "files"]
NO_PUSH = ("--no-push",)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def write(repo: Path, name: str, text: str) -> Path:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_commit_leaves_the_checkout_index_head_and_stash_untouched(repo: Path) -> None:
    write(repo, "stashed.txt", "one\n")
    git(repo, "add", "stashed.txt")
    git(repo, "stash", "push", "-q", "-m", "mine")
    write(repo, "README.md", "project, edited\n")  # unstaged
    write(repo, "staged.txt", "staged\n")
    git(repo, "add", "staged.txt")  # staged
    write(repo, "out/report.txt", "all green\n")  # untracked, committed below
    write(repo, "out/sub/data.json", '{"n": 1}\n')
    before = snapshot(repo)

    document = commit_json(
        repo,
        "--task",
        "T1",
        "--workflow",
        "wf",
        "out",
        "README.md",
        "--correlation-id",
        "c1",
        *NO_PUSH,
    )

    assert snapshot(repo) == before
    assert list(document) == RESULT_KEYS
    assert document["success"] is True
    assert document["branch"] == "ai/generated/wf/T1"
    assert document["tags"] == ["corr_c1"]
    assert document["pushed"] is False
    assert document["error"] is None
    assert document["files"] == [
        "artifacts/T1/out/report.txt",
        "artifacts/T1/out/sub/data.json",
        "artifacts/T1/README.md",
    ]
    sha = document["commit_sha"]
    assert git(repo, "rev-parse", "ai/generated/wf/T1").strip() == sha
    assert git(repo, "rev-parse", "corr_c1^{commit}").strip() == sha
    assert tree_files(repo, sha) == {*document["files"], "artifacts/T1/metadata.json"}
    # The working tree's bytes were committed, not the index's.
    assert git(repo, "show", f"{sha}:artifacts/T1/README.md") == "project, edited\n"
    metadata = json.loads(git(repo, "show", f"{sha}:artifacts/T1/metadata.json"))
    for key in (
        "workflow_id",
        "task_id",
        "run_id",
        "correlation_id",
        "prompt_hash",
        "commit_timestamp",
        "agent_version",
        "llm_version",
        "test_metrics",
        "files",
    ):
        assert key in metadata
    assert metadata["workflow_id"] == "wf"
    assert metadata["correlation_id"] == "c1"
    assert metadata["files"][0] == {
        "path": "out/report.txt",
        "sha256": hashlib.sha256(b"all green\n").hexdigest(),
        "size": 10,
    }
    author = git(repo, "log", "-1", "--format=%an|%cn", sha).strip()
    assert author == "codex-orchestrator-bot|codex-orchestrator-bot"


def test_each_commit_replaces_only_the_task_directory_and_builds_on_the_head(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    first = commit_json(repo, "--task", "T1", "--workflow", "wf", "a.txt", *NO_PUSH)
    branch = first["branch"]
    # Something else on the branch, outside the task's directory, must stay.
    blob = git(repo, "hash-object", "-w", "--stdin", stdin=b"kept\n").strip()
    tree = git(repo, "mktree", stdin=f"100644 blob {blob}\tkeep.txt\n".encode()).strip()
    other = git(repo, "commit-tree", tree, "-p", first["commit_sha"], "-m", "other").strip()
    git(repo, "update-ref", f"refs/heads/{branch}", other)
    (repo / "a.txt").unlink()
    write(repo, "b.txt", "b\n")

    second = commit_json(repo, "--task", "T1", "--workflow", "wf", "b.txt", *NO_PUSH)

    assert git(repo, "rev-parse", f"{second['commit_sha']}^").strip() == other
    assert tree_files(repo, branch) == {"artifacts/T1/b.txt", "artifacts/T1/metadata.json"} | {
        "keep.txt"
    }


def test_prompt_tag_is_never_moved_and_corr_prefix_is_not_doubled(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    first = commit_json(
        repo,
        "--task",
        "T1",
        "--workflow",
        "wf",
        "a.txt",
        "--correlation-id",
        "corr_x1",
        "--prompt-hash",
        "abc123",
        *NO_PUSH,
    )
    second = commit_json(
        repo,
        "--task",
        "T1",
        "--workflow",
        "wf",
        "a.txt",
        "--correlation-id",
        "x2",
        "--prompt-hash",
        "abc123",
        *NO_PUSH,
    )
    assert first["tags"] == ["corr_x1", "prompt_abc123"]
    assert second["tags"] == ["corr_x2", "prompt_abc123"]
    assert "corr_corr_x1" not in git(repo, "tag").split()
    assert git(repo, "rev-parse", "prompt_abc123").strip() == first["commit_sha"]


def test_a_correlation_id_already_tagged_is_refused(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    first = commit_json(
        repo, "--task", "T1", "--workflow", "wf", "a.txt", "--correlation-id", "dup", *NO_PUSH
    )
    result = store(
        repo,
        "commit",
        "--task",
        "T1",
        "--workflow",
        "wf",
        "a.txt",
        "--correlation-id",
        "dup",
        "--format",
        "json",
        *NO_PUSH,
    )
    assert result.returncode == 2
    assert "corr_dup is already tagged" in helpers.one_error_line(result)
    document = helpers.json_document(result)
    assert list(document) == RESULT_KEYS
    assert document["success"] is False
    assert git(repo, "rev-parse", "ai/generated/wf/T1").strip() == first["commit_sha"]


def test_a_secret_refuses_the_commit_before_any_object_is_written(repo: Path) -> None:
    value = "Hunter2-" + "Orbit-77"
    write(repo, "conf/app.env", f"MODE=ci\nDB_PASSWORD={value}\n")
    objects_before = git(repo, "count-objects", "-v")

    result = store(repo, "commit", "--task", "T1", "--workflow", "wf", "conf", *NO_PUSH)

    assert result.returncode == 2
    line = helpers.one_error_line(result)
    assert "conf/app.env:2 password (sha256:" in line
    assert value not in result.stdout + result.stderr
    assert git(repo, "count-objects", "-v") == objects_before
    assert git(repo, "branch", "--list", "ai/*") == ""


def test_placeholders_pass_and_a_binary_file_commits(repo: Path) -> None:
    write(repo, "deploy.yml", "password: '*****'\ntoken: ${TOKEN}\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 100)
    document = commit_json(repo, "--task", "T1", "--workflow", "wf", "deploy.yml", "logo.png")
    assert document["files"] == ["artifacts/T1/deploy.yml", "artifacts/T1/logo.png"]
    png = subprocess.run(
        ["git", "cat-file", "blob", f"{document['commit_sha']}:artifacts/T1/logo.png"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    assert png == (repo / "logo.png").read_bytes()


def test_bad_input_is_one_line_and_exit_2(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    cases = [
        (("--task", "T1", "--workflow", "wf", str(outside)), "outside the repository"),
        (("--task", "T1", "--workflow", "wf", "missing.txt"), "missing.txt: no such file"),
        (("--task", "T1", "README.md"), "--workflow is required"),
        (("--task", "T1", "--workflow", "a/b", "README.md"), "invalid workflow id"),
        (
            ("--task", "T1", "--workflow", "wf", "README.md", "--correlation-id", "a..b"),
            "invalid correlation id",
        ),
    ]
    for args, expected in cases:
        result = store(repo, "commit", *args, *NO_PUSH)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in helpers.one_error_line(result)
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    (not_a_repo / "f.txt").write_text("f\n")
    result = store(not_a_repo, "commit", "--workflow", "wf", "f.txt")
    assert result.returncode == 2
    assert "not inside a git repository" in helpers.one_error_line(result)


def test_config_store_keys_are_used_and_checked(repo: Path) -> None:
    config = {
        "pipelines": [],
        "store": {
            "path": "generated/{workflow_id}/{task_id}",
            "branchPrefix": "bots/out",
            "author": "Release Bot <release-bot@example.com>",
            "autoPush": False,
        },
    }
    (repo / "codex.orchestrator.json").write_bytes(orjson.dumps(config))
    write(repo, "a.txt", "a\n")
    document = commit_json(repo, "--task", "T9", "--workflow", "wf", "a.txt")
    assert document["branch"] == "bots/out/wf/T9"
    assert document["files"] == ["generated/wf/T9/a.txt"]
    assert document["push_error"] is None
    author = git(repo, "log", "-1", "--format=%an <%ae>", document["commit_sha"]).strip()
    assert author == "Release Bot <release-bot@example.com>"

    config["store"] = {"pushTimeoutSeconds": -1}
    (repo / "codex.orchestrator.json").write_bytes(orjson.dumps(config))
    result = store(repo, "commit", "--task", "T9", "--workflow", "wf", "a.txt")
    assert result.returncode == 2
    assert helpers.one_error_line(result) == (
        "codex.orchestrator.json: store.pushTimeoutSeconds: must be a positive number, got -1"
    )


@pytest.mark.slow
def test_four_concurrent_commits_to_one_branch_all_land_in_a_linear_history(repo: Path) -> None:
    for n in range(4):
        write(repo, f"f{n}.txt", f"{n}\n")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "codex_orchestrator",
                "store",
                "commit",
                "--task",
                "T1",
                "--workflow",
                "wf",
                f"f{n}.txt",
                "--correlation-id",
                f"run{n}",
                "--no-push",
                "--format",
                "json",
            ],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    documents = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        documents.append(orjson.loads(out))
    history = git(repo, "rev-list", "--parents", "ai/generated/wf/T1").splitlines()
    assert len(history) == 4
    assert all(len(line.split()) == (2 if i < 3 else 1) for i, line in enumerate(history))
    assert {line.split()[0] for line in history} == {d["commit_sha"] for d in documents}
    for n in range(4):
        tagged = git(repo, "rev-parse", f"corr_run{n}^{{commit}}").strip()
        assert tagged == documents[n]["commit_sha"]


def test_signing_when_configured(repo: Path, tmp_path: Path) -> None:
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    (repo / "codex.orchestrator.json").write_bytes(
        orjson.dumps({"pipelines": [], "store": {"sign": True, "autoPush": False}})
    )
    write(repo, "a.txt", "a\n")
    document = commit_json(repo, "--task", "T1", "--workflow", "wf", "a.txt")
    raw = git(repo, "cat-file", "commit", document["commit_sha"])
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in raw
