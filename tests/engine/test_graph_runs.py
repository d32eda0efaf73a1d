"""Pipelines as graphs, through the real CLI: needs, if, jobs, fail-fast, resume, cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers import (
    RunFiles,
    command,
    json_document,
    one_error_line,
    only_run,
    pipeline,
    run_cli_subprocess,
    start_json,
    validate_manifest,
    write_config,
)

pytestmark = pytest.mark.integration


def meet(me: str, other: str) -> str:
    """A command that succeeds only if ``other`` runs at the same time (a rendezvous)."""
    return (
        f"touch {me}.started; i=0; while [ ! -e {other}.started ]; do "
        f"i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done"
    )


def count(name: str, then: str = "true") -> str:
    """A command that appends to ``ran-<name>``, then does ``then``."""
    return f"echo x >> ran-{name}; {then}"


def ran(project: Path, name: str) -> int:
    path = project / f"ran-{name}"
    return len(path.read_text().splitlines()) if path.exists() else 0


def records(run: RunFiles) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in run.manifest()["commands"]}


def test_a_diamond_runs_its_branches_side_by_side(tmp_path: Path) -> None:
    """With --jobs 2 both branches run at once (each waits for the other), then the join."""
    write_config(
        tmp_path,
        pipeline(
            "diamond",
            command("design", count("design")),
            command("security", meet("security", "database"), needs=["design"]),
            command("database", meet("database", "security"), needs=["design"]),
            command("backend", count("backend"), needs=["security", "database"]),
        ),
    )
    result, document, run = start_json(tmp_path, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
    manifest = run.manifest()
    validate_manifest(manifest)
    by_id = records(run)
    assert by_id["backend"]["needs"] == ["security", "database"]
    assert by_id["design"]["needs"] == []
    assert all(record["status"] == "succeeded" for record in by_id.values())
    events = run.events()
    ends = {e["index"]: n for n, e in enumerate(events) if e["type"] == "command:end"}
    starts = {e["id"]: n for n, e in enumerate(events) if e["type"] == "command:start"}
    assert starts["backend"] > max(ends[2], ends[3])
    assert starts["security"] > ends[1]
    assert starts["database"] < ends[2]  # both branches started before either ended
    assert "[3/4] database: " in result.stderr
    assert "(running: security)" in result.stderr


def test_jobs_one_runs_one_stage_at_a_time(tmp_path: Path) -> None:
    """--jobs 1: independent stages never overlap."""
    stage = "echo start-{0} >> order; sleep 0.1; echo end-{0} >> order"
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("a", stage.format("a")),
            command("b", stage.format("b")),
            command("c", stage.format("c"), needs=["a", "b"]),
        ),
    )
    result, _, _ = start_json(tmp_path, "--jobs", "1")
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "order").read_text().split()
    assert lines == ["start-a", "end-a", "start-b", "end-b", "start-c", "end-c"]


def failing_branch_config(tmp_path: Path, backend: str) -> None:
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("design", count("design")),
            command("security", count("security", backend), needs=["design"]),
            command("database", count("database"), needs=["design"]),
            command("docs", count("docs"), needs=["database"]),
            command("backend", count("backend"), needs=["security", "database"]),
            command("cleanup", count("cleanup"), needs=["backend"], **{"if": "always"}),
            command("report", count("report"), needs=["security"], **{"if": "failure"}),
            command("notify", count("notify"), needs=["docs"], **{"if": "failure"}),
        ),
    )


def test_a_failed_branch_blocks_its_dependents_and_the_rest_goes_on(tmp_path: Path) -> None:
    """Independent branches keep going; the join stays pending, blocked; cleanup runs."""
    failing_branch_config(tmp_path, "exit 3")
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status"] == "failed"
    by_id = records(run)
    assert by_id["security"]["status"] == "failed"
    assert by_id["database"]["status"] == "succeeded"
    assert by_id["docs"]["status"] == "succeeded"  # the other branch went on
    assert by_id["backend"]["status"] == "pending"
    assert by_id["backend"]["blocked_by"] == ["security"]
    assert "security" in by_id["backend"]["summary"]
    assert by_id["cleanup"]["status"] == "succeeded"  # if: always
    assert by_id["cleanup"]["blocked_by"] is None
    assert by_id["report"]["status"] == "succeeded"  # if: failure, and a need failed
    assert by_id["notify"]["status"] == "skipped"  # if: failure, nothing it needs failed
    assert ran(tmp_path, "backend") == 0
    assert "blocked" in document["summary"]
    assert "backend" in document["summary"]
    validate_manifest(run.manifest())


def test_resume_of_a_graph_runs_the_failed_and_blocked_stages_only(tmp_path: Path) -> None:
    """After a fix, resume re-runs the failed stage and what it blocked, nothing else."""
    failing_branch_config(tmp_path, "exit 3")
    result, _, run = start_json(tmp_path)
    assert result.returncode == 1
    failing_branch_config(tmp_path, "true")

    resumed = run_cli_subprocess(tmp_path, "resume", "--run", run.run_id, "--format", "json")

    assert resumed.returncode == 0, resumed.stderr
    assert json_document(resumed)["status"] == "succeeded"
    assert (ran(tmp_path, "design"), ran(tmp_path, "database"), ran(tmp_path, "docs")) == (1, 1, 1)
    assert (ran(tmp_path, "security"), ran(tmp_path, "backend")) == (2, 1)
    assert ran(tmp_path, "cleanup") == 1  # it succeeded before: not run again
    by_id = records(run)
    assert by_id["backend"]["status"] == "succeeded"
    assert by_id["backend"]["blocked_by"] is None


def test_fail_fast_launches_nothing_new(tmp_path: Path) -> None:
    """--fail-fast: after the first failure nothing new starts; the rest stays pending."""
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("first", count("first", "exit 1")),
            command("second", count("second")),
            command("third", count("third"), needs=["second"]),
        ),
    )
    result, _, run = start_json(tmp_path, "--jobs", "1", "--fail-fast")
    assert result.returncode == 1
    by_id = records(run)
    assert [by_id[s]["status"] for s in ("first", "second", "third")] == [
        "failed",
        "pending",
        "pending",
    ]
    assert by_id["second"]["blocked_by"] is None
    assert ran(tmp_path, "second") == 0


def test_a_consumer_waits_for_its_producer(tmp_path: Path) -> None:
    """``consumes`` implies a need on the producer, whatever the order in the file."""
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("read", "cat design.txt", consumes=["design"], needs=["setup"]),
            command("write", "sleep 0.2; echo plan > design.txt", produces=["design"]),
            command("setup", "true"),
        ),
    )
    result, _, run = start_json(tmp_path, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert records(run)["read"]["needs"] == ["setup", "write"]
    lines = [e["data"] for e in run.command_events("01-read") if e["type"] == "command:stdout"]
    assert lines == ["plan"]


def test_without_needs_a_pipeline_is_the_linear_chain_of_before(tmp_path: Path) -> None:
    """No needs anywhere: one at a time, stop at the first failure, no graph fields."""
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("a", count("a")),
            command("b", count("b", "exit 1")),
            command("c", count("c")),
        ),
    )
    result, _, run = start_json(tmp_path, "--jobs", "4")
    assert result.returncode == 1
    by_id = records(run)
    assert [by_id[s]["status"] for s in "abc"] == ["succeeded", "failed", "pending"]
    assert all("needs" not in r and "blocked_by" not in r for r in by_id.values())


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (
            [command("a", "true", needs=["b"]), command("b", "true", needs=["a"])],
            "pipelines[0].stages[1].needs[0]: needs cycle: a -> b -> a",
        ),
        (
            [command("a", "true", needs=["nope"])],
            'pipelines[0].stages[0].needs[0]: unknown stage "nope"',
        ),
        (
            [command("a", "true", needs=["a"])],
            'pipelines[0].stages[0].needs[0]: stage "a" cannot need itself',
        ),
        (
            [command("a", "true", **{"if": "sometimes"})],
            "pipelines[0].stages[0].if: must be",
        ),
        (
            [command("a", "true", **{"if": "gate:nope"})],
            'pipelines[0].stages[0].if: unknown gate "nope"',
        ),
        (
            [command("a", "true", consumes=["plan"])],
            'pipelines[0].stages[0].consumes[0]: artifact "plan" is produced by no stage',
        ),
        (
            [
                command("a", "true", consumes=["y"], produces=["x"], needs=["c"]),
                command("b", "true", consumes=["x"], produces=["y"]),
                command("c", "true"),
            ],
            "needs cycle",
        ),
        (
            [command("a", "cat x", consumes=["x"]), command("b", "true", produces=["x"])],
            'pipelines[0].stages[0].consumes[0]: artifact "x" is produced by the later stage "b"',
        ),
        (
            [command("a", "true", needs="b")],
            "pipelines[0].stages[0].needs: must be an array of strings, got string",
        ),
    ],
)
def test_graph_config_errors_name_the_key_path(
    tmp_path: Path, stages: list[dict[str, Any]], expected: str
) -> None:
    """Cycles, unknown ids, unknown gates, orphan consumers: exit 2, one line, nothing run."""
    write_config(tmp_path, pipeline("p", *stages))
    result = run_cli_subprocess(tmp_path, "start", "--format", "json")
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert not (tmp_path / ".runs").exists()


def test_pipeline_jobs_must_be_a_positive_integer(tmp_path: Path) -> None:
    write_config(tmp_path, pipeline("p", command("a", "true"), jobs=0))
    result = run_cli_subprocess(tmp_path, "start")
    assert result.returncode == 2
    assert "pipelines[0].jobs: must be a positive integer, got 0" in one_error_line(result)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cancel_ends_every_running_stage_tree(tmp_path: Path, sig: signal.Signals) -> None:
    """A signal during parallel stages ends each one's whole tree: no orphans, exit 130."""
    hold = "sleep 300 & echo $! > {0}.pid; wait"
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("left", hold.format("left")),
            command("right", hold.format("right")),
            command("after", count("after"), needs=["left", "right"]),
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--jobs", "2", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_files = [tmp_path / "left.pid", tmp_path / "right.pid"]
    try:
        deadline = time.monotonic() + 60
        while not all(p.exists() and p.read_text().strip() for p in pid_files):
            assert time.monotonic() < deadline, "the stages did not start"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        pids = [int(p.read_text()) for p in pid_files]
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert json_document(subprocess.CompletedProcess([], 130, out, err))["status"] == "cancelled"
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "a stage's background job outlived the cancel"
        time.sleep(0.05)
    run = only_run(tmp_path)
    by_id = records(run)
    assert by_id["left"]["status"] == by_id["right"]["status"] == "failed"
    assert run.error("01-left")["reason"] == "cancelled"
    assert run.error("02-right")["reason"] == "cancelled"
    assert by_id["after"]["status"] == "pending"
    assert ran(tmp_path, "after") == 0
    assert os.environ.get("CODEX_ORCHESTRATOR_TASK_ID") is None


def test_plan_shows_needs_and_levels(tmp_path: Path) -> None:
    """``plan`` lists each stage's needs (implied ones too) and its level."""
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("design", "true", produces=["plan"]),
            command("security", "true", needs=["design"]),
            command("database", "true", consumes=["plan"], needs=[]),
            command("backend", "true", needs=["security", "database"]),
            command("cleanup", "true", needs=["backend"], **{"if": "always"}),
        ),
    )
    result = run_cli_subprocess(tmp_path, "plan", "--format", "json")
    assert result.returncode == 0, result.stderr
    stages = {s["id"]: s for s in json_document(result)["stages"]}
    assert stages["database"]["needs"] == ["design"]
    assert [stages[s]["level"] for s in ("design", "security", "database", "backend")] == [
        1,
        2,
        2,
        3,
    ]
    assert stages["cleanup"]["if"] == "always"
    text = run_cli_subprocess(tmp_path, "plan")
    assert "level 3, needs security database" in text.stdout
    assert "if always" in text.stdout


def test_plan_draws_the_graph_as_dot_and_mermaid(tmp_path: Path) -> None:
    """Needs are edges; the artifacts that flow along them label them."""
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("design", "true", produces=["system_design"]),
            command("security", "true", consumes=["system_design"], needs=[]),
            command("cleanup", "true", needs=["security"], **{"if": "always"}),
        ),
    )
    dot = run_cli_subprocess(tmp_path, "plan", "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith('digraph "p" {')
    assert '"design" -> "security" [label="system_design"];' in dot.stdout
    assert '"security" -> "cleanup";' in dot.stdout
    assert '"cleanup" [label="cleanup\\nif always"];' in dot.stdout
    mermaid = run_cli_subprocess(tmp_path, "plan", "--format", "mermaid")
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.splitlines()[0] == "flowchart LR"
    assert '  s1 -->|"system_design"| s2' in mermaid.stdout.splitlines()
    assert "  s2 --> s3" in mermaid.stdout.splitlines()
