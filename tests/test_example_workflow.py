"""The worked example under examples/: runnable with start, gated on coverage."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import json_document, run_cli_subprocess, start_json, validate_manifest

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "agent-workflow"


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    target = tmp_path / "agent-workflow"
    shutil.copytree(
        EXAMPLE, target, ignore=shutil.ignore_patterns("artifacts", "deployed", ".runs")
    )
    return target


def statuses(manifest: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in manifest["commands"]}


def test_the_example_runs_and_deploys(workflow: Path) -> None:
    result, document, run = start_json(workflow)
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
    manifest = run.manifest()
    validate_manifest(manifest)
    assert statuses(manifest) == {
        "design": "succeeded",
        "security": "succeeded",
        "database": "succeeded",
        "backend": "succeeded",
        "tests": "succeeded",
        "deploy": "succeeded",
        "more-tests": "skipped",
    }
    assert {a["name"]: a["status"] for a in manifest["artifacts"]} == {
        "system_design": "valid",
        "security_requirements": "valid",
        "database_schema": "valid",
        "api_contracts": "valid",
        "test_results": "valid",
    }
    assert (workflow / "deployed" / "test-results.json").is_file()
    check = run_cli_subprocess(workflow, "artifacts", "check", "--format", "json")
    assert check.returncode == 0, check.stderr
    assert json_document(check)["valid"] is True


def test_low_coverage_blocks_deploy_until_resumed(workflow: Path) -> None:
    result, document, run = start_json(workflow, env={"COVERAGE": "70"})
    assert result.returncode == 1
    manifest = run.manifest()
    assert statuses(manifest)["deploy"] == "pending"
    assert statuses(manifest)["more-tests"] == "succeeded"
    deploy = next(c for c in manifest["commands"] if c["id"] == "deploy")
    assert deploy["blocked_by"] == ["gate:coverage"]
    assert "coverage is under 80" in document["summary"]
    assert not (workflow / "deployed").exists()

    results = workflow / "artifacts" / "test-results.json"
    results.write_text(results.read_text().replace("70", "91"))
    resumed = run_cli_subprocess(workflow, "resume", "--run", run.run_id, "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert statuses(run.manifest())["deploy"] == "succeeded"
