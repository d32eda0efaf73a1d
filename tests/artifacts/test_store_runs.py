"""A run's kept artifacts in the store: ``store commit --run`` and the pipeline ``store`` key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helpers
import pytest
from gitrepos import commit_json, git, make_repo, snapshot, store, tree_files

LEAK = "Hunter2-" + "Orbit-77"  # what a careless stage writes into its workspace

WRITE = (
    'mkdir -p "$CODEX_ORCHESTRATOR_WORKSPACE/gen" && '
    'echo "def f(): return 1" > "$CODEX_ORCHESTRATOR_WORKSPACE/gen/model.py" && '
    'echo ok > "$CODEX_ORCHESTRATOR_WORKSPACE/report.txt"'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text(".runs/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore runs")
    return repo


def configure(repo: Path, *stages: dict[str, Any], store_key: dict[str, Any] | None) -> None:
    pipeline = helpers.pipeline("gen", *stages)
    if store_key is not None:
        pipeline["store"] = store_key
    document = {"pipelines": [pipeline], "store": {"autoPush": False}}
    (repo / "codex.orchestrator.json").write_text(json.dumps(document))
    git(repo, "add", "codex.orchestrator.json")
    git(repo, "commit", "-q", "-m", "config")


def start(repo: Path, env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any], Path]:
    result = helpers.run_cli_subprocess(repo, "start", "gen", "--format", "json", env=env)
    document = helpers.json_document(result)
    manifest_path = repo / document["manifest"]
    return result, json.loads(manifest_path.read_text()), manifest_path.parent


def events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in helpers.read_ndjson(run_dir / "runner.ndjson") if e["type"] == kind]


def test_a_pipeline_store_key_commits_the_kept_artifacts_when_the_run_succeeds(
    project: Path,
) -> None:
    configure(
        project,
        helpers.command("build", WRITE),
        store_key={"on": "success", "workflow": "codegen", "correlationId": "ci-{run_id}"},
    )
    before = snapshot(project)

    result, manifest, run_dir = start(project)

    assert result.returncode == 0, result.stderr
    assert snapshot(project) == before
    recorded = manifest["store"]
    assert recorded["success"] is True
    assert recorded["branch"] == "ai/generated/codegen/0101"
    assert recorded["tags"] == [f"corr_ci-{manifest['run_id']}"]
    sha = recorded["commit_sha"]
    assert tree_files(project, sha) == {
        "artifacts/0101/01-build/gen/model.py",
        "artifacts/0101/01-build/report.txt",
        "artifacts/0101/metadata.json",
    }
    metadata = json.loads(git(project, "show", f"{sha}:artifacts/0101/metadata.json"))
    assert metadata["run_id"] == manifest["run_id"]
    assert metadata["test_metrics"]["commands_passed"] == 1
    assert [e["commit_sha"] for e in events(run_dir, "artifact:committed")] == [sha]
    assert "Store: committed 2 files to ai/generated/codegen/0101" in manifest["summary"]


def test_a_secret_in_the_artifacts_fails_the_run_with_a_summary_line(project: Path) -> None:
    leak = 'echo "password = \\"$GENERATED\\"" > "$CODEX_ORCHESTRATOR_WORKSPACE/settings.py"'
    configure(project, helpers.command("build", leak), store_key={"on": "always"})

    result, manifest, run_dir = start(project, env={"GENERATED": LEAK})

    assert result.returncode == 1
    assert manifest["status"] == "failed"
    assert manifest["store"]["success"] is False
    assert "Store: commit refused: 1 secret found, nothing committed: " in manifest["summary"]
    assert "01-build/settings.py:1 password (sha256:" in manifest["summary"]
    evidence = (run_dir / "manifest.json").read_text() + (run_dir / "runner.ndjson").read_text()
    assert LEAK not in evidence + result.stdout + result.stderr
    assert git(project, "branch", "--list", "ai/*") == ""


def test_on_success_skips_a_failed_run_and_always_commits_it(project: Path) -> None:
    failing = helpers.command("build", f"{WRITE} && exit 4")
    configure(project, failing, store_key={"on": "success"})
    result, manifest, _ = start(project)
    assert result.returncode == 1
    assert "store" not in manifest
    configure(project, failing, store_key={"on": "always", "workflow": "nightly"})
    result, manifest, _ = start(project)
    assert result.returncode == 1
    assert manifest["store"]["success"] is True
    assert manifest["store"]["branch"] == "ai/generated/nightly/0101"


def test_store_commit_run_commits_a_finished_runs_artifacts(project: Path) -> None:
    configure(project, helpers.command("build", WRITE), store_key=None)
    result, manifest, _ = start(project)
    assert result.returncode == 0, result.stderr
    run_id = manifest["run_id"]

    missing = store(project, "commit", "--run", run_id, "--workflow", "wf")
    assert missing.returncode == 2
    assert "a correlation id is required" in helpers.one_error_line(missing)

    document = commit_json(
        project,
        "--run",
        run_id,
        "--workflow",
        "wf",
        "--correlation-id",
        "req-1",
        "--meta",
        "llm_version=model-x",
    )
    assert document["files"] == [
        "artifacts/0101/01-build/gen/model.py",
        "artifacts/0101/01-build/report.txt",
    ]
    metadata = json.loads(
        git(project, "show", f"{document['commit_sha']}:artifacts/0101/metadata.json")
    )
    assert (metadata["run_id"], metadata["llm_version"]) == (run_id, "model-x")
    unknown = store(
        project,
        "commit",
        "--run",
        "2020-01-01T00-00-00-000Z-deadbeef",
        "--workflow",
        "wf",
        "--correlation-id",
        "x",
    )
    assert unknown.returncode == 2
