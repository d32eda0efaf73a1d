"""The collected layout's fields as the contract lists them, for a run tree with gates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import RunFiles, command, pipeline, start_json, subpipeline

from .kept import artifacts_dir, instance_dir, read

pytestmark = pytest.mark.integration

RUN_FIELDS = {
    "run_id",
    "task_id",
    "pipeline_id",
    "created_at",
    "completed_at",
    "status",
    "partial",
    "instances",
    "totals",
}
INSTANCE_FIELDS = {
    "instance_id",
    "name",
    "role",
    "parent_instance_id",
    "created_at",
    "terminated_at",
    "status",
    "exit_code",
    "duration_ms",
    "resources",
    "files",
    "bytes",
    "partial",
    "errors",
}
TOTALS = {"instances", "files", "bytes", "cpu_seconds", "peak_rss_bytes"}
ROW_FIELDS = {"instance", "path", "size", "sha256", "permissions"}
RESULTS = "mkdir -p out; printf '{\"coverage\": 61}' > out/results.json; chmod 640 out/results.json"


def write_project(tmp_path: Path) -> None:
    """tests produces results (a warn gate fires on them), a child run, a failing stage."""
    document: dict[str, Any] = {
        "defaultPipeline": "main",
        "registry": {
            "artifact_types": {
                "results": {"producer": "tests", "format": "json", "path": "out/results.json"}
            }
        },
        "gates": [
            {
                "id": "low-coverage",
                "artifact": "results",
                "when": "coverage < `80`",
                "action": "warn",
                "message": "coverage under 80",
            }
        ],
        "pipelines": [
            pipeline(
                "main",
                command("tests", RESULTS),
                subpipeline("nested", "child", needs=["tests"]),
                command(
                    "lint", "echo first; echo 'E501 line too long' >&2; exit 2", needs=["tests"]
                ),
            ),
            pipeline("child", command("inner", 'echo in > "$CODEX_ORCHESTRATOR_WORKSPACE/in.txt"')),
        ],
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))


def test_run_instance_and_index_fields(tmp_path: Path) -> None:
    write_project(tmp_path)
    result, _, run = start_json(tmp_path)
    assert result.returncode == 1
    metadata = read(artifacts_dir(run) / "metadata.json")
    assert set(metadata) >= RUN_FIELDS
    assert (metadata["run_id"], metadata["task_id"], metadata["pipeline_id"]) == (
        run.run_id,
        "0101",
        "main",
    )
    assert metadata["status"] == "failed"
    assert set(metadata["totals"]) == TOTALS
    instances = {i["instance_id"]: i for i in metadata["instances"]}
    assert set(instances) == {"01-tests", "02-nested", "02-nested/01-inner", "03-lint"}
    for instance_id, entry in instances.items():
        assert set(entry) >= INSTANCE_FIELDS, instance_id
        on_disk = read(instance_dir(run, *instance_id.split("/")) / "metadata.json")
        assert on_disk["instance_id"] == instance_id
    assert instances["02-nested"]["role"] == "subpipeline"
    assert instances["02-nested/01-inner"]["parent_instance_id"] == "02-nested"
    assert (instances["03-lint"]["status"], instances["03-lint"]["exit_code"]) == ("failed", 2)
    assert metadata["totals"]["instances"] == 4
    assert metadata["totals"]["files"] == 2
    rows = read(artifacts_dir(run) / "index.json")["files"]
    for row in rows:
        assert set(row) >= ROW_FIELDS
        assert re.fullmatch(r"0[0-7]{3}", row["permissions"])
    by_path = {(r["instance"], r["path"]): r for r in rows}
    assert by_path[("01-tests", "out/results.json")]["permissions"] == "0640"
    assert by_path[("02-nested/01-inner", "in.txt")]["size"] == 3
    _child_collected(run)
    _summary(run)


def _child_collected(run: RunFiles) -> None:
    """The child run is collected under its own run directory too."""
    (child,) = run.manifest()["child_runs"]
    child_run = RunFiles(run.project, run.task_id, child["run_id"])
    child_meta = read(artifacts_dir(child_run) / "metadata.json")
    assert child_meta["parent_run_id"] == run.run_id
    assert [i["instance_id"] for i in child_meta["instances"]] == ["01-inner"]
    assert (instance_dir(child_run, "01-inner") / "workspace/in.txt").read_text() == "in\n"


def _summary(run: RunFiles) -> None:
    """summary.md: what ran, how it ended, the failure with its last lines, the gate."""
    summary = (artifacts_dir(run) / "summary.md").read_text()
    assert f"# Run {run.run_id}" in summary
    assert "- Status: **failed**" in summary
    for instance_id in ("01-tests", "02-nested", "02-nested/01-inner", "03-lint"):
        assert f"| `{instance_id}` |" in summary
    failures = summary.split("## Failures", 1)[1]
    assert "### `03-lint`" in failures
    assert "E501 line too long" in failures
    assert "- `low-coverage`: fired (warn): coverage under 80" in summary
