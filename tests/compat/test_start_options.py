"""``start`` takes the TypeScript tool's options that make sense for a command runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    command,
    json_document,
    one_error_line,
    pipeline,
    run_cli_subprocess,
    start_json,
    write_config,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_config(tmp_path, pipeline("ci", command("build", "true"), command("test", "true")))
    return tmp_path


@pytest.mark.integration
def test_recorded_options_reach_the_manifest_fields_of_the_same_names(project: Path) -> None:
    result, document, run = start_json(
        project,
        "ci",
        "--approval-policy",
        "on-request",
        "--target-stage",
        "test",
        "--issue-provider",
        "linear",
        "--issue-id",
        "abc-123",
        "--issue-identifier",
        "ENG-7",
        "--issue-updated-at",
        "2026-01-02T03:04:05.000Z",
    )
    assert result.returncode == 0, result.stderr
    manifest = run.manifest()
    assert manifest["approval_policy"] == "on-request"
    assert manifest["plan_target_id"] == "ci:test"
    assert manifest["issue_provider"] == "linear"
    assert manifest["issue_id"] == "abc-123"
    assert manifest["issue_identifier"] == "ENG-7"
    assert manifest["issue_updated_at"] == "2026-01-02T03:04:05.000Z"
    assert document["status"] == "succeeded"


@pytest.mark.integration
def test_an_unknown_target_is_refused_before_anything_is_written(project: Path) -> None:
    result = run_cli_subprocess(project, "start", "ci", "--target", "deploy")
    assert result.returncode == 2
    assert one_error_line(result) == (
        "--target deploy: pipeline ci has no stage deploy (stages: build, test)"
    )
    assert not (project / ".runs").exists()


@pytest.mark.integration
def test_plan_target_marks_that_stage(project: Path) -> None:
    result = run_cli_subprocess(project, "plan", "ci", "--target", "test", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json_document(result)
    assert document["plan_target_id"] == "ci:test"
    text = run_cli_subprocess(project, "plan", "ci", "--target", "ci:test")
    assert "Target: ci:test" in text.stdout
    assert "-> test" in text.stdout


@pytest.mark.integration
@pytest.mark.parametrize(
    "args",
    [
        ("start", "--cloud"),
        ("start", "ci", "--execution-mode", "cloud"),
        ("start", "ci", "--runtime-mode=appserver"),
        ("start", "ci", "--multi-agent", "true"),
        ("start", "rlm", "--goal", "ship it"),
        ("resume", "--run", "x", "--runtime-mode", "cli"),
    ],
)
def test_agent_only_options_are_not_supported(project: Path, args: tuple[str, ...]) -> None:
    result = run_cli_subprocess(project, *args)
    assert result.returncode == 2
    name = next(a for a in args if a.startswith("--") and a != "--run").split("=")[0]
    assert one_error_line(result).startswith(f"{name} is not supported: ")
    assert not (project / ".runs").exists()


@pytest.mark.integration
def test_repo_config_required_refuses_the_built_in_pipelines(tmp_path: Path) -> None:
    result = run_cli_subprocess(tmp_path, "start", "--repo-config-required")
    assert result.returncode == 2
    assert "--repo-config-required: no codex.orchestrator.json" in one_error_line(result)
    assert not (tmp_path / ".runs").exists()
    env = {"CODEX_ORCHESTRATOR_REPO_CONFIG_REQUIRED": "1"}
    assert run_cli_subprocess(tmp_path, "start", env=env).returncode == 2
    write_config(tmp_path, pipeline("ci", command("a", "true")))
    assert run_cli_subprocess(tmp_path, "start", "--repo-config-required").returncode == 0
