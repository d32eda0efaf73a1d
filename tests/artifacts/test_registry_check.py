"""``artifacts check``: each format and rule, with a passing and a failing artifact."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
SEED = Path(__file__).with_name("seed_registry.yml")

OPENAPI_OK = """openapi: 3.0.0
info: {title: Waste API, version: 1.0.0}
paths:
  /customers:
    get:
      responses:
        '200': {description: ok}
"""
SQL_OK = """CREATE TABLE customers (id UUID PRIMARY KEY, name TEXT);
CREATE TABLE bins (id UUID PRIMARY KEY, customer_id UUID REFERENCES customers(id));
"""


def registry(tmp_path: Path, fmt: str, rules: dict[str, Any], name: str = "thing.out") -> None:
    """A config whose inline registry has one artifact ``thing`` at ``artifacts/<name>``."""
    document = {
        "registry": {
            "artifact_types": {
                "thing": {"producer": "make", "format": fmt, "path": f"artifacts/{name}"}
            },
            "artifact_validation": {name: {"format": fmt, **rules}} if rules else {},
        },
        "pipelines": [
            {
                "id": "p",
                "title": "P",
                "stages": [{"kind": "command", "id": "make", "title": "m", "command": "true"}],
            }
        ],
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))


def put(tmp_path: Path, data: str | bytes, name: str = "thing.out") -> Path:
    path = tmp_path / "artifacts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def check(run_cli: Run) -> tuple[int, dict[str, Any]]:
    result = run_cli("artifacts", "check", "--format", "json")
    return result.exit_code, json.loads(result.stdout)


CASES: list[tuple[str, str, dict[str, Any], str | bytes, str | bytes, str]] = [
    ("json", "json", {}, '{"a": 1}', '{"a": ', "format"),
    ("yaml", "yaml", {}, "a: 1\n", "a: [1\n", "format"),
    (
        "sql",
        "sql",
        {"required_tables": ["customers", "bins"]},
        SQL_OK,
        "CREATE TABLE customers (id UUID);",
        "required_tables",
    ),
    ("sql-parse", "sql", {}, SQL_OK, "CREATE TABLE (", "format"),
    ("openapi", "openapi", {"version": "3.0"}, OPENAPI_OK, "openapi: 3.0.0\ninfo: {}\n", "format"),
    (
        "openapi-version",
        "openapi",
        {"version": "3.1"},
        OPENAPI_OK.replace("3.0.0", "3.1.0", 1),
        OPENAPI_OK,
        "version",
    ),
    ("markdown", "markdown", {}, "# Errors\nnone\n", b"# \xff\xfe\n", "format"),
    ("text", "text", {}, "plain\n", b"\xc3\x28", "format"),
    ("binary", "binary", {"max_size": 4}, b"\x00\xff\x10", b"\x00" * 5, "max_size"),
    (
        "required_fields",
        "json",
        {"required_fields": ["summary.total", "coverage"]},
        '{"summary": {"total": 3}, "coverage": 90}',
        '{"summary": {}, "coverage": 90}',
        "required_fields",
    ),
    ("max_size", "text", {"max_size": "1KB"}, "x" * 1024, "x" * 1025, "max_size"),
    (
        "schema",
        "json",
        {
            "schema": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"enum": ["ok"]}},
            }
        },
        '{"status": "ok"}',
        '{"status": "bad"}',
        "schema",
    ),
    (
        "minimum_coverage",
        "json",
        {"minimum_coverage": 80},
        '{"summary": {"coverage": 87.3}}',
        '{"summary": {"coverage": 79.9}}',
        "minimum_coverage",
    ),
    (
        "coverage-top",
        "json",
        {"minimum_coverage": 80},
        '{"coverage": 80}',
        '{"total": 3}',
        "minimum_coverage",
    ),
]


@pytest.mark.parametrize(
    ("label", "fmt", "rules", "good", "bad", "rule"), CASES, ids=[c[0] for c in CASES]
)
def test_each_format_and_rule_passes_and_fails(
    tmp_path: Path,
    run_cli: Run,
    label: str,
    fmt: str,
    rules: dict[str, Any],
    good: str | bytes,
    bad: str | bytes,
    rule: str,
) -> None:
    """The good artifact is valid (exit 0); the bad one is invalid with the rule named (exit 1)."""
    registry(tmp_path, fmt, rules)
    put(tmp_path, good)
    code, report = check(run_cli)
    assert code == 0, report
    (entry,) = report["artifacts"]
    assert entry["status"] == "valid", entry["findings"]
    assert entry["size_bytes"] == len(good if isinstance(good, bytes) else good.encode())
    assert len(entry["sha256"]) == 64

    put(tmp_path, bad)
    code, report = check(run_cli)
    assert code == 1
    (entry,) = report["artifacts"]
    assert entry["status"] == "invalid"
    assert rule in [f["rule"] for f in entry["findings"]], entry["findings"]
    assert all(f["severity"] == "error" for f in entry["findings"] if f["rule"] == rule)


def test_a_missing_artifact_is_missing(tmp_path: Path, run_cli: Run) -> None:
    registry(tmp_path, "json", {})
    code, report = check(run_cli)
    assert code == 1
    assert report["artifacts"][0]["status"] == "missing"


def test_schema_from_a_file_and_warn_severity(tmp_path: Path, run_cli: Run) -> None:
    """A schema path is read; a rule given with severity warn is recorded, not failed."""
    (tmp_path / "schema.json").write_text('{"type": "object", "required": ["id"]}')
    registry(
        tmp_path,
        "json",
        {"schema": "schema.json", "max_size": {"value": "1KB", "severity": "warn"}},
    )
    put(tmp_path, '{"id": 1, "pad": "' + "x" * 2000 + '"}')
    code, report = check(run_cli)
    assert code == 0
    (finding,) = report["artifacts"][0]["findings"]
    assert (finding["rule"], finding["severity"]) == ("max_size", "warn")
    put(tmp_path, '{"name": 1}')
    code, report = check(run_cli)
    assert code == 1
    assert report["artifacts"][0]["findings"][0]["rule"] == "schema"


def test_depends_on_needs_valid_artifacts_and_warns_when_stale(
    tmp_path: Path, run_cli: Run
) -> None:
    """An artifact depending on an invalid one is invalid; on a newer one, stale (a warning)."""
    document = {
        "registry": {
            "artifact_types": {
                "design": {"producer": "a", "format": "yaml", "path": "artifacts/design.yml"},
                "schema": {"producer": "b", "format": "sql", "path": "artifacts/schema.sql"},
            },
            "artifact_validation": {"schema.sql": {"depends_on": ["design.yml"]}},
        },
        "pipelines": [
            {
                "id": "p",
                "title": "P",
                "stages": [{"kind": "command", "id": "a", "title": "a", "command": "true"}],
            }
        ],
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))
    design = put(tmp_path, "services: [api]\n", "design.yml")
    schema = put(tmp_path, SQL_OK, "schema.sql")
    os.utime(design, (1_000_000, 1_000_000))
    os.utime(schema, (2_000_000, 2_000_000))
    code, report = check(run_cli)
    assert code == 0, report
    assert all(a["findings"] == [] for a in report["artifacts"])

    os.utime(design, (3_000_000, 3_000_000))
    code, report = check(run_cli)
    assert code == 0
    by_name = {a["name"]: a for a in report["artifacts"]}
    (stale,) = by_name["schema"]["findings"]
    assert (stale["rule"], stale["severity"]) == ("depends_on", "warn")
    assert stale["message"].startswith("stale")

    put(tmp_path, "services: [\n", "design.yml")
    code, report = check(run_cli)
    assert code == 1
    by_name = {a["name"]: a for a in report["artifacts"]}
    assert by_name["schema"]["status"] == "invalid"
    assert "design.yml, which is invalid" in by_name["schema"]["findings"][0]["message"]


def test_the_seed_registry_file_works_as_written(tmp_path: Path, run_cli: Run) -> None:
    """.agent-artifacts/registry.yml verbatim: every artifact known, checked where it is."""
    (tmp_path / ".agent-artifacts").mkdir()
    shutil.copy(SEED, tmp_path / ".agent-artifacts" / "registry.yml")
    code, report = check(run_cli)
    assert code == 1
    assert report["registry"] == ".agent-artifacts/registry.yml"
    names = [a["name"] for a in report["artifacts"]]
    assert names == [
        "system_design",
        "security_requirements",
        "database_schema",
        "api_contracts",
        "test_results",
        "error_reports",
        "performance_metrics",
    ]
    assert {a["status"] for a in report["artifacts"]} == {"missing"}
    put(tmp_path, "services: [api]\n", "system-design.yml")
    put(tmp_path, "authentication: jwt\n", "security-requirements.yml")
    put(tmp_path, SQL_OK, "database-schema.sql")
    put(tmp_path, OPENAPI_OK, "api-contracts.yml")
    put(tmp_path, '{"summary": {"coverage": 87.3}}', "test-results.json")
    put(tmp_path, "# Error Analysis Report\n", "error-reports.md")
    put(tmp_path, '{"performance_analysis": {}}', "performance-metrics.json")
    code, report = check(run_cli)
    assert code == 0, report
    assert report["artifacts"][0]["producer"] == "system-architecture-lead"
    text = run_cli("artifacts", "check")
    assert "7 artifact(s): all valid" in text.stdout


def test_without_a_registry_check_is_a_usage_error(tmp_path: Path, run_cli: Run) -> None:
    result = run_cli("artifacts", "check")
    assert result.exit_code == 2
    assert "no artifact registry" in result.output


def test_registry_mistakes_name_the_key_path(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / ".agent-artifacts").mkdir()
    (tmp_path / ".agent-artifacts" / "registry.yml").write_text(
        "artifact_types:\n  x: {producer: a, format: xml, path: out.xml}\n"
    )
    result = run_cli("artifacts", "check")
    assert result.exit_code == 2
    assert ".agent-artifacts/registry.yml: artifact_types.x.format: must be one of" in result.output
