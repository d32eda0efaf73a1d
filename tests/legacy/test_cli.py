"""``metrics summary`` and ``migrate`` through the real CLI, and the two scripts as processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from codex_orchestrator.cli.app import app

from .trees import AGENTS, LegacyTree, dump, snapshot, write

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("codex-orchestrator: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def script(
    name: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def metrics_file(legacy_tree: LegacyTree) -> Path:
    entry = {
        "run_id": "r1",
        "status": "succeeded",
        "duration_seconds": 2,
        "guardrails_present": True,
    }
    return legacy_tree.metrics(
        "0001", [entry, "garbage\n", {**entry, "run_id": "r2", "status": "failed"}]
    )


def test_metrics_summary_json_is_one_document(metrics_file: Path) -> None:
    result = invoke("metrics", "summary", "--task", "0001", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == json.loads((metrics_file.parent / "metrics-summary.json").read_text())
    assert document["entries_total"] == 2
    assert document["parse_errors"][0]["line"] == 2
    assert result.stderr == ""


def test_metrics_summary_text_is_a_table(metrics_file: Path) -> None:
    result = invoke("metrics", "summary", "--task", "0001")

    assert result.exit_code == 0, result.output
    assert "Metrics of task 0001" in result.stdout
    assert "success rate" in result.stdout
    assert "50.0%" in result.stdout
    assert "line 2: not JSON" in result.stdout
    assert "summary written to .runs/0001/metrics-summary.json" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "../etc"], "invalid task id"),
        (["--task", "0001"], "no metrics file"),
    ],
)
def test_metrics_summary_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("metrics", "summary", *args, "--format", "json")

    assert result.exit_code == 2
    assert message in one_error_line(result.stderr)
    assert result.stdout == ""
    assert not (tmp_path / ".runs").exists()


def test_migrate_json_is_one_document(fixture_like: LegacyTree, tmp_path: Path) -> None:
    result = invoke("migrate", "--task", "0001", "--dry-run", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["dry_run"] is True
    logged = json.loads((tmp_path / document["log_path"]).read_text())
    assert logged == {key: value for key, value in document.items() if key != "log_path"}


def test_migrate_text_lists_what_was_done(fixture_like: LegacyTree) -> None:
    result = invoke("migrate", "--task", "0001")

    assert result.exit_code == 0, result.output
    assert "Migration of task 0001" in result.stdout
    assert "migrated" in result.stdout
    assert "4 migrated, 2 skipped" in result.stdout
    assert "log written to .runs/0001/migrations/" in result.stdout


def test_migrate_unknown_run_id_is_exit_2(fixture_like: LegacyTree) -> None:
    before = snapshot(fixture_like.runs)

    result = invoke("migrate", "--task", "0001", "--run-id", "2030-01-01T00-00-00Z")

    assert result.exit_code == 2
    assert "not found" in one_error_line(result.stderr)
    assert snapshot(fixture_like.runs) == before


def test_migrate_bad_task_is_exit_2(fixture_like: LegacyTree) -> None:
    result = invoke("migrate", "--task", "a/b", "--format", "json")

    assert result.exit_code == 2
    assert "invalid task id" in one_error_line(result.stderr)
    assert result.stdout == ""


def test_migrate_error_is_exit_1(legacy_tree: LegacyTree) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS)
    write(legacy_tree.runs / "0001" / "cli" / AGENTS / "manifest.json", dump({"other": 1}))

    result = invoke("migrate", "--task", "0001", "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["runs"][0]["status"] == "error"


@pytest.mark.integration
def test_migrate_script_dry_run_from_repo_root(fixture_like: LegacyTree, tmp_path: Path) -> None:
    before = snapshot(fixture_like.runs)

    done = script(
        "mcp-runner-migrate.py", "--dry-run", cwd=tmp_path, env={"MCP_RUNNER_TASK_ID": "0001"}
    )

    assert done.returncode == 0, done.stderr
    assert "Migration of task 0001 (dry run)" in done.stdout
    after = snapshot(fixture_like.runs, exclude=["migrations"])
    assert after == before
    assert len(list((fixture_like.runs / "0001" / "migrations").glob("*-dry-run.log"))) == 1


@pytest.mark.integration
def test_migrate_script_json_and_idempotence(fixture_like: LegacyTree, tmp_path: Path) -> None:
    first = script("mcp-runner-migrate.py", "--task", "0001", "--format", "json", cwd=tmp_path)
    state = snapshot(fixture_like.runs, exclude=["migrations"])
    second = script("mcp-runner-migrate.py", "--task", "0001", "--format", "json", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert {run["status"] for run in json.loads(first.stdout)["runs"]} == {"migrated", "skipped"}
    assert {run["status"] for run in json.loads(second.stdout)["runs"]} == {"skipped"}
    assert snapshot(fixture_like.runs, exclude=["migrations"]) == state


@pytest.mark.integration
def test_metrics_script(metrics_file: Path, tmp_path: Path) -> None:
    done = script(
        "mcp-runner-metrics.py", "--task", "0001", "--format", "json", "--summarize", cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["entries_total"] == 2
    assert (metrics_file.parent / "metrics-summary.json").is_file()


@pytest.mark.integration
@pytest.mark.parametrize("name", ["mcp-runner-metrics.py", "mcp-runner-migrate.py"])
def test_scripts_refuse_bad_task(tmp_path: Path, name: str) -> None:
    done = script(name, "--task", "../x", cwd=tmp_path)

    assert done.returncode == 2
    assert "invalid task id" in one_error_line(done.stderr)
    assert not (tmp_path / ".runs").exists()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("mcp-runner-metrics.py", ["--task", "--format"]),
        ("mcp-runner-migrate.py", ["--dry-run", "--run-id", "--task", "--format"]),
    ],
)
def test_scripts_help(tmp_path: Path, name: str, options: list[str]) -> None:
    done = script(name, "--help", cwd=tmp_path)

    assert done.returncode == 0
    for option in options:
        assert option in done.stdout


@pytest.mark.integration
@pytest.mark.parametrize("dry", [True, False])
def test_migrate_of_an_unknown_task_writes_nothing(tmp_path: Path, dry: bool) -> None:
    """A mistyped --task leaves no .runs/<task>/migrations behind, dry run or not."""
    (tmp_path / ".runs" / "0001" / "cli").mkdir(parents=True)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    args = ["migrate", "--task", "nosuch", *(["--dry-run"] if dry else [])]
    result = subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no log written" in result.stdout
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
