"""Registry artifacts and gates in real runs: artifact-invalid, block, halt, warn, if: gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import RunFiles, run_cli_subprocess, start_json, validate_manifest

pytestmark = pytest.mark.integration

WRITE = "mkdir -p artifacts; printf '%s' '{0}' > artifacts/test-results.json"


def project(
    tmp_path: Path, results: str, gate: dict[str, Any] | None, *extra: dict[str, Any]
) -> None:
    """tests writes test-results.json; deploy needs it; extra stages as given."""
    document: dict[str, Any] = {
        "defaultPipeline": "p",
        "registry": {
            "artifact_types": {
                "test_results": {
                    "producer": "tests",
                    "consumers": ["deploy"],
                    "format": "json",
                    "path": "artifacts/test-results.json",
                }
            },
            "artifact_validation": {
                "test-results.json": {
                    "required_fields": ["summary"],
                    "schema": {"type": "object", "properties": {"summary": {"type": "object"}}},
                    "format": "json",
                }
            },
        },
        "gates": [gate] if gate else [],
        "pipelines": [
            {
                "id": "p",
                "title": "P",
                "stages": [
                    {
                        "kind": "command",
                        "id": "tests",
                        "title": "Tests",
                        "command": WRITE.format(results),
                    },
                    {
                        "kind": "command",
                        "id": "deploy",
                        "title": "Deploy",
                        "command": "echo x >> deployed",
                        "needs": ["tests"],
                    },
                    *extra,
                ],
            }
        ],
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))


def records(run: RunFiles) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in run.manifest()["commands"]}


def coverage_gate(action: str, **more: Any) -> dict[str, Any]:
    return {
        "id": "coverage",
        "artifact": "test_results",
        "when": "summary.coverage < `80`",
        "action": action,
        "notify": ["backend-agent"],
        "message": "coverage under 80",
        **more,
    }


def test_an_invalid_artifact_fails_its_producer_and_blocks_the_rest(tmp_path: Path) -> None:
    """Reason artifact-invalid; the error file lists every finding; deploy stays blocked."""
    project(tmp_path, '{"summary": 3}', None)
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status"] == "failed"
    by_id = records(run)
    assert by_id["tests"]["status"] == "failed"
    assert by_id["tests"]["exit_code"] == 0
    assert by_id["deploy"]["status"] == "pending"
    assert by_id["deploy"]["blocked_by"] == ["tests"]
    error = run.error("01-tests")
    assert error["reason"] == "artifact-invalid"
    rules = [(f["artifact"], f["rule"], f["severity"]) for f in error["details"]["findings"]]
    assert rules == [("test_results", "schema", "error")]
    manifest = run.manifest()
    validate_manifest(manifest)
    (artifact,) = manifest["artifacts"]
    assert artifact["status"] == "invalid"
    assert artifact["producer"] == "tests"
    events = [e for e in run.events() if e["type"] == "artifact:validated"]
    assert [e["status"] for e in events] == ["invalid"]
    assert not (tmp_path / "deployed").exists()


def test_block_keeps_the_stages_from_running_and_if_gate_runs_its_stage(tmp_path: Path) -> None:
    """Coverage 70: deploy is blocked by gate:coverage; the page stage (if: gate) runs."""
    page = {
        "kind": "command",
        "id": "page",
        "title": "Page",
        "command": "echo x >> paged",
        "needs": ["tests"],
        "if": "gate:coverage",
    }
    project(tmp_path, '{"summary": {"coverage": 70}}', coverage_gate("block"), page)
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    by_id = records(run)
    assert by_id["deploy"]["blocked_by"] == ["gate:coverage"]
    assert by_id["page"]["status"] == "succeeded"
    assert (tmp_path / "paged").exists()
    assert not (tmp_path / "deployed").exists()
    manifest = run.manifest()
    validate_manifest(manifest)
    (gate,) = manifest["gates"]
    assert gate["fired"] is True
    assert (gate["action"], gate["stages"], gate["notify"]) == (
        "block",
        ["deploy"],
        ["backend-agent"],
    )
    assert gate["message"] == "coverage under 80"
    assert "Gate coverage blocked deploy: coverage under 80" in document["summary"]
    evaluated = [e for e in run.events() if e["type"] == "gate:evaluated"]
    assert [(e["id"], e["fired"]) for e in evaluated] == [("coverage", True)]


def test_a_gate_that_does_not_fire_lets_deploy_run_and_skips_the_gate_stage(tmp_path: Path) -> None:
    page = {
        "kind": "command",
        "id": "page",
        "title": "Page",
        "command": "echo x >> paged",
        "needs": ["tests"],
        "if": "gate:coverage",
    }
    project(tmp_path, '{"summary": {"coverage": 91}}', coverage_gate("block"), page)
    result, _document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    by_id = records(run)
    assert by_id["deploy"]["status"] == "succeeded"
    assert by_id["page"]["status"] == "skipped"
    assert by_id["page"]["summary"] == "skipped: gate coverage did not fire"
    assert run.manifest()["gates"][0]["fired"] is False
    assert run.manifest()["artifacts"][0]["status"] == "valid"


def test_warn_records_a_summary_line_and_the_run_goes_on(tmp_path: Path) -> None:
    project(tmp_path, '{"summary": {"coverage": 70}}', coverage_gate("warn"))
    result, document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning: gate coverage fired: coverage under 80" in document["summary"]
    assert records(run)["deploy"]["status"] == "succeeded"


def test_halt_ends_running_stages_and_fails_the_run(tmp_path: Path) -> None:
    """A halt gate cancels the run: the stage running beside is ended, status_detail names it."""
    slow = {
        "kind": "command",
        "id": "slow",
        "title": "Slow",
        "command": "sleep 300 & echo $! > slow.pid; wait",
    }
    project(tmp_path, '{"summary": {"coverage": 70}}', coverage_gate("halt"), slow)
    document_path = tmp_path / "codex.orchestrator.json"
    document = json.loads(document_path.read_text())
    # tests waits until slow runs, so the halt meets a running stage.
    document["pipelines"][0]["stages"][0]["command"] = (
        "while [ ! -s slow.pid ]; do sleep 0.05; done; "
        + WRITE.format('{"summary": {"coverage": 70}}')
    )
    document_path.write_text(json.dumps(document))
    result, summary, run = start_json(tmp_path, "--jobs", "2")
    assert result.returncode == 1, result.stderr
    assert summary["status"] == "failed"
    assert summary["status_detail"] == "gate:coverage"
    by_id = records(run)
    assert by_id["slow"]["status"] == "failed"
    assert run.error("03-slow")["reason"] == "cancelled"
    assert by_id["deploy"]["status"] == "pending"
    assert "Run halted by gate:coverage." in summary["summary"]


def test_resume_after_fixing_the_artifact_runs_the_blocked_stage(tmp_path: Path) -> None:
    """Blocked by a gate, then resumed with good coverage on disk: deploy runs."""
    project(tmp_path, '{"summary": {"coverage": 70}}', coverage_gate("block"))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 1
    (tmp_path / "artifacts" / "test-results.json").write_text('{"summary": {"coverage": 95}}')
    resumed = run_cli_subprocess(tmp_path, "resume", "--run", run.run_id, "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert records(run)["deploy"]["status"] == "succeeded"
    assert run.manifest()["gates"][0]["fired"] is False


SEED = Path(__file__).with_name("seed_registry.yml")


def test_a_run_with_the_seed_registry_file_as_written(tmp_path: Path) -> None:
    """Stage ids named like the seed's agents: the registry orders and checks them."""
    (tmp_path / ".agent-artifacts").mkdir()
    (tmp_path / ".agent-artifacts" / "registry.yml").write_bytes(SEED.read_bytes())
    write = "mkdir -p artifacts; printf '%s\\n' '{1}' > artifacts/{0}"
    stages = [
        ("system-architecture-lead", write.format("system-design.yml", "services: [api]")),
        ("security", write.format("security-requirements.yml", "authentication: jwt")),
        (
            "database-architect",
            write.format("database-schema.sql", "CREATE TABLE customers (id INT);"),
        ),
    ]
    document = {
        "pipelines": [
            {
                "id": "seed",
                "title": "Seed",
                "stages": [
                    {"kind": "command", "id": sid, "title": sid, "command": cmd}
                    for sid, cmd in stages
                ],
            }
        ]
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))
    # The registry makes system-architecture-lead a consumer of performance_metrics,
    # whose producer is not in this pipeline: an input, which must exist.
    missing = run_cli_subprocess(tmp_path, "start", "seed")
    assert missing.returncode == 2
    assert 'artifact "performance_metrics" is produced by no stage' in missing.stderr
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "performance-metrics.json").write_text('{"api": {}}')
    result, _document_out, run = start_json(tmp_path, "seed")
    assert result.returncode == 0, result.stderr
    manifest = run.manifest()
    validate_manifest(manifest)
    by_name = {a["name"]: a for a in manifest["artifacts"]}
    assert set(by_name) == {
        "system_design",
        "security_requirements",
        "database_schema",
        "performance_metrics",
    }
    assert {a["status"] for a in by_name.values()} == {"valid"}
    assert by_name["database_schema"]["producer"] == "database-architect"
    plan = run_cli_subprocess(tmp_path, "plan", "seed", "--format", "json")
    needs = {s["id"]: s["needs"] for s in json.loads(plan.stdout)["stages"]}
    # database-architect consumes the security requirements (the registry says so).
    assert needs["database-architect"] == ["security", "system-architecture-lead"]
