"""``runs``: the runs of a task, or of every task, newest first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import RunFiles, exec_json, run_cli_subprocess
from typer.testing import Result

Run = Callable[..., Result]
ROW_KEYS = {
    "run_id",
    "recorded_status",
    "lost",
    "task_id",
    "manifest",
    "source",
    "status",
    "pipeline_id",
    "parent_run_id",
    "started_at",
    "completed_at",
    "duration_seconds",
}


def test_task_and_all_tasks_together_are_refused(run_cli: Run) -> None:
    """``--task`` with ``--all-tasks`` is a usage error (exit 2)."""
    result = run_cli("runs", "--task", "a", "--all-tasks")
    assert result.exit_code == 2
    assert result.stderr == "codex-orchestrator: error: give --task ID or --all-tasks, not both\n"


def test_no_runs(run_cli: Run) -> None:
    """Nothing yet: an empty JSON list, or a line saying so."""
    result = run_cli("runs", "--format", "json")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout) == []
    text = run_cli("runs")
    assert (text.exit_code, text.stdout) == (0, "no runs\n")


def test_bad_task_is_refused(run_cli: Run) -> None:
    """The task id rules hold here too."""
    result = run_cli("runs", "--task", "../x")
    assert result.exit_code == 2
    assert "invalid task id" in result.stderr


class Project:
    """Three runs: two in task ``alpha`` (one failed), one in task ``beta``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.alpha_ok = exec_json(root, "true", env={"MCP_RUNNER_TASK_ID": "alpha"})[2]
        self.beta = exec_json(root, "true", env={"MCP_RUNNER_TASK_ID": "beta"})[2]
        self.alpha_failed = exec_json(root, "false", env={"MCP_RUNNER_TASK_ID": "alpha"})[2]

    def rows(self, *args: str) -> list[dict[str, Any]]:
        result = run_cli_subprocess(self.root, "runs", *args, "--format", "json")
        assert result.returncode == 0, result.stderr
        rows = orjson.loads(result.stdout)
        assert isinstance(rows, list)
        return rows


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Runs made once for the module."""
    return Project(tmp_path_factory.mktemp("runs"))


def _ids(runs: list[RunFiles]) -> list[str]:
    return [run.run_id for run in runs]


@pytest.mark.integration
def test_runs_of_one_task_newest_first(project: Project) -> None:
    """``--task alpha``: alpha's runs only, the latest first, with their outcome."""
    rows = project.rows("--task", "alpha")
    assert [row["run_id"] for row in rows] == _ids([project.alpha_failed, project.alpha_ok])
    assert [row["status"] for row in rows] == ["failed", "succeeded"]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert (row["task_id"], row["pipeline_id"], row["source"]) == ("alpha", "exec", "cli")
        assert row["manifest"] == f".runs/alpha/cli/{row['run_id']}/manifest.json"
        assert row["duration_seconds"] >= 0


@pytest.mark.integration
def test_all_tasks_newest_first(project: Project) -> None:
    """``--all-tasks``: every run of every task, newest first, each naming its task."""
    rows = project.rows("--all-tasks")
    assert [(row["run_id"], row["task_id"]) for row in rows] == [
        (project.alpha_failed.run_id, "alpha"),
        (project.beta.run_id, "beta"),
        (project.alpha_ok.run_id, "alpha"),
    ]


@pytest.mark.integration
def test_task_from_the_environment(project: Project) -> None:
    """Without ``--task`` the task variables choose, as for ``start``."""
    result = run_cli_subprocess(
        project.root, "runs", "--format", "json", env={"CODEX_ORCHESTRATOR_TASK_ID": "beta"}
    )
    assert [row["run_id"] for row in orjson.loads(result.stdout)] == [project.beta.run_id]


@pytest.mark.integration
def test_text_table_shows_whole_ids_and_statuses(project: Project) -> None:
    """The table, even on an 80-column pipe, shows each run id and status in full."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env["COLUMNS"] = "80"
    result = run_cli_subprocess(project.root, "runs", "--all-tasks", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    order = _ids([project.alpha_failed, project.beta, project.alpha_ok])
    positions = [next(i for i, line in enumerate(lines) if run_id in line) for run_id in order]
    assert positions == sorted(positions)
    statuses = [lines[i].split() for i in positions]
    assert ["failed" in words for words in statuses] == [True, False, False]
    assert ["succeeded" in words for words in statuses] == [False, True, True]


@pytest.mark.integration
def test_unreadable_manifest_is_listed_not_fatal(tmp_path: Path) -> None:
    """A broken manifest shows as ``unreadable`` with the reason; the others still list."""
    good = exec_json(tmp_path, "true")[2]
    broken = exec_json(tmp_path, "true")[2]
    broken.manifest_path.write_text("{")
    result = run_cli_subprocess(tmp_path, "runs", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["run_id"]: row for row in orjson.loads(result.stdout)}
    assert rows[good.run_id]["status"] == "succeeded"
    assert rows[broken.run_id]["status"] == "unreadable"
    assert "not valid JSON" in rows[broken.run_id]["error"]


@pytest.mark.integration
def test_wide_terminal_shows_the_start_time(project: Project) -> None:
    """With room for it (110+ columns), the table has a "started" column."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env["COLUMNS"] = "120"
    result = run_cli_subprocess(project.root, "runs", "--task", "beta", env=env)
    assert result.returncode == 0, result.stderr
    header, _, row = result.stdout.splitlines()[:3]
    assert "started" in header
    started = orjson.loads(project.beta.manifest_path.read_bytes())["started_at"]
    assert started.replace("T", " ")[:19] in row


@pytest.mark.integration
def test_runs_filters_by_status_and_pipeline_and_limits(project: Project) -> None:
    everything = project.rows("--all-tasks")
    failed = project.rows("--all-tasks", "--status", "failed")
    assert [row["run_id"] for row in failed] == [project.alpha_failed.run_id]
    assert [row["run_id"] for row in project.rows("--all-tasks", "--limit", "2")] == [
        row["run_id"] for row in everything[:2]
    ]
    assert project.rows("--all-tasks", "--pipeline", "exec", "--limit", "1") == everything[:1]
    assert project.rows("--all-tasks", "--pipeline", "ci") == []
    assert project.rows("--task", "alpha", "--status", "succeeded")[0]["run_id"] == (
        project.alpha_ok.run_id
    )


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


@pytest.mark.integration
def test_a_run_whose_runner_is_dead_is_lost(tmp_path: Path) -> None:
    _, _, run = exec_json(tmp_path, "true")
    manifest = run.manifest()
    manifest.update(status="in_progress", completed_at=None, runner_pid=_dead_pid())
    run.manifest_path.write_bytes(orjson.dumps(manifest))

    result = run_cli_subprocess(tmp_path, "runs", "--format", "json")
    (row,) = orjson.loads(result.stdout)
    assert (row["status"], row["recorded_status"], row["lost"]) == ("lost", "in_progress", True)
    text = run_cli_subprocess(tmp_path, "runs", env={"COLUMNS": "100"})
    assert f"{run.run_id} │ lost " in text.stdout
    lost = run_cli_subprocess(tmp_path, "runs", "--status", "lost", "--format", "json")
    assert len(orjson.loads(lost.stdout)) == 1
