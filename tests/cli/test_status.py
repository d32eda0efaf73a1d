"""``status``: a run's manifest plus whether its runner lives; ``--watch`` follows it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import (
    RunFiles,
    command,
    exec_json,
    json_document,
    one_error_line,
    pipeline,
    run_cli_subprocess,
    start_json,
    subpipeline,
    write_config,
)
from typer.testing import Result

Run = Callable[..., Result]
ACTIVITY_KEYS = {
    "heartbeat_at",
    "heartbeat_age_seconds",
    "stale",
    "runner_pid",
    "runner_alive",
    "lost",
    "leftover_processes",
    "resume_command",
}


def test_status_needs_exactly_one_of_run_or_latest(run_cli: Run) -> None:
    """Neither or both: exit 2 with one line saying what to give."""
    for args in ((), ("--run", "x", "--latest")):
        result = run_cli("status", *args)
        assert result.exit_code == 2
        assert result.stderr == (
            "codex-orchestrator: error: give exactly one of --run ID or --latest\n"
        )


def test_latest_without_runs_is_not_found(run_cli: Run) -> None:
    """No runs yet: exit 2, naming the task."""
    result = run_cli("status", "--latest")
    assert result.exit_code == 2
    assert result.stderr.startswith("codex-orchestrator: error: no runs for task 0101")


@pytest.mark.parametrize("run_id", ["../escape", ".hidden", "a/b"])
def test_unsafe_run_id_is_refused(run_cli: Run, run_id: str) -> None:
    """A run id that would be a path is refused before any lookup."""
    result = run_cli("status", "--run", run_id)
    assert result.exit_code == 2
    assert "invalid run id" in result.stderr


def _status_json(project: Path, *args: str) -> dict[str, Any]:
    result = run_cli_subprocess(project, "status", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json_document(result)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFiles, RunFiles]:
    """A project with a succeeded run, then a failed run (the latest)."""
    project = tmp_path_factory.mktemp("status")
    ok = exec_json(project, "true")[2]
    failed = exec_json(project, "sh", "-c", "exit 3")[2]
    return ok, failed


@pytest.mark.integration
def test_status_json_is_the_manifest_plus_activity(finished: tuple[RunFiles, RunFiles]) -> None:
    """The document holds every manifest field, the manifest path and the runner's activity."""
    ok, _ = finished
    document = _status_json(ok.project, "--run", ok.run_id)
    manifest = ok.manifest()
    assert {key: document[key] for key in manifest} == manifest
    assert document["manifest_path"] == f".runs/0101/cli/{ok.run_id}/manifest.json"
    activity = document["activity"]
    assert set(activity) == ACTIVITY_KEYS
    assert activity["heartbeat_at"] == manifest["heartbeat_at"]
    assert activity["heartbeat_age_seconds"] >= 0
    assert activity["runner_pid"] == manifest["runner_pid"]
    assert (activity["runner_alive"], activity["stale"], activity["lost"]) == (False, False, False)
    assert activity["resume_command"] is None


@pytest.mark.integration
def test_latest_is_the_newest_run(finished: tuple[RunFiles, RunFiles]) -> None:
    """``--latest`` shows the most recent run of the task."""
    _, failed = finished
    document = _status_json(failed.project, "--latest")
    assert (document["run_id"], document["status"]) == (failed.run_id, "failed")
    assert document["activity"]["resume_command"] == (
        f"codex-orchestrator resume --run {failed.run_id} --task 0101"
    )


@pytest.mark.integration
def test_status_text_shows_the_run(finished: tuple[RunFiles, RunFiles]) -> None:
    """Text mode: run id, task, pipeline, status, each stage."""
    _, failed = finished
    result = run_cli_subprocess(failed.project, "status", "--run", failed.run_id)
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())
    assert words.startswith(
        f"run {failed.run_id} task 0101 pipeline exec failed (stage:exec:failed)"
    )
    assert "Exited with code 3" in result.stdout


@pytest.mark.integration
def test_unknown_run_is_exit_2(finished: tuple[RunFiles, RunFiles]) -> None:
    """A run id that does not exist: exit 2, one line."""
    ok, _ = finished
    result = run_cli_subprocess(ok.project, "status", "--run", "2020-01-01T00-00-00-000Z-deadbeef")
    assert result.returncode == 2
    assert "run 2020-01-01T00-00-00-000Z-deadbeef not found" in one_error_line(result)


@pytest.mark.integration
@pytest.mark.parametrize(("index", "code"), [(0, 0), (1, 1)])
def test_watch_exits_with_the_runs_outcome(
    finished: tuple[RunFiles, RunFiles], index: int, code: int
) -> None:
    """``--watch`` on a finished run: 0 when it succeeded, 1 when it failed."""
    run = finished[index]
    result = run_cli_subprocess(
        run.project,
        "status",
        "--run",
        run.run_id,
        "--watch",
        "--interval",
        "0.2",
        "--format",
        "json",
    )
    assert result.returncode == code, result.stderr
    (line,) = result.stdout.splitlines()
    assert orjson.loads(line)["run_id"] == run.run_id


@pytest.mark.integration
@pytest.mark.parametrize(
    "content", [b'{"run_id": "x", "status": "succ', b"not json at all", b"", b"[]"]
)
def test_unreadable_manifest_is_exit_2_and_left_alone(tmp_path: Path, content: bytes) -> None:
    """A truncated or non-JSON manifest: exit 2 with one line; the file is not touched."""
    _, _, run = exec_json(tmp_path, "true")
    run.manifest_path.write_bytes(content)
    result = run_cli_subprocess(tmp_path, "status", "--run", run.run_id)
    assert result.returncode == 2
    assert str(run.manifest_path.name) in one_error_line(result)
    assert run.manifest_path.read_bytes() == content


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def _make_lost(run: RunFiles) -> None:
    """Rewrite a finished manifest as a run whose runner died mid-way."""
    manifest = run.manifest()
    manifest.update(status="in_progress", status_detail=None, completed_at=None)
    manifest["runner_pid"] = _dead_pid()
    manifest["commands"][0].update(status="running", completed_at=None, exit_code=None)
    run.manifest_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


@pytest.mark.integration
def test_in_progress_run_with_a_dead_runner_is_lost(tmp_path: Path) -> None:
    """A manifest in progress whose runner is gone: shown as lost, with the resume command."""
    write_config(tmp_path, pipeline("p", command("step", "true")))
    _, _, run = start_json(tmp_path, "--task", "feature-x")
    _make_lost(run)
    resume = f"codex-orchestrator resume --run {run.run_id} --task feature-x"

    document = _status_json(tmp_path, "--run", run.run_id)
    activity = document["activity"]
    assert (activity["lost"], activity["runner_alive"]) == (True, False)
    assert activity["resume_command"] == resume

    text = run_cli_subprocess(tmp_path, "status", "--run", run.run_id)
    assert text.returncode == 0, text.stderr
    assert " ".join(text.stdout.split()).startswith(
        f"run {run.run_id} task feature-x pipeline p lost"
    )
    # The command is on one line of its own, whole, however long the ids are.
    assert text.stdout.splitlines()[-1] == f"  {resume}"

    watched = run_cli_subprocess(
        tmp_path, "status", "--run", run.run_id, "--watch", "--interval", "0.2"
    )
    assert watched.returncode == 1
    assert resume in watched.stdout


@pytest.mark.integration
def test_status_finds_a_run_of_another_task_by_id(tmp_path: Path) -> None:
    """``--run ID`` without ``--task`` looks in every task."""
    _, _, run = exec_json(tmp_path, "true", env={"MCP_RUNNER_TASK_ID": "elsewhere"})
    document = _status_json(tmp_path, "--run", run.run_id)
    assert document["task_id"] == "elsewhere"
    wrong_task = run_cli_subprocess(tmp_path, "status", "--run", run.run_id, "--task", "0101")
    assert wrong_task.returncode == 2


@pytest.mark.integration
def test_latest_is_the_run_a_person_started_not_its_child(tmp_path: Path) -> None:
    """A subpipeline's child run starts after its parent; ``--latest`` still shows the parent."""
    write_config(
        tmp_path,
        pipeline("main", command("a", "true"), subpipeline("sub", "child")),
        pipeline("child", command("c", "true")),
    )
    _, started, _ = start_json(tmp_path, "main")
    document = _status_json(tmp_path, "--latest")
    assert (document["run_id"], document["pipeline_id"]) == (started["run_id"], "main")
