"""``exec -- CMD ARGS``: one command with full evidence; the command's exit code is ours."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    command,
    exec_json,
    one_error_line,
    only_run,
    output_bytes,
    pipeline,
    run_cli_subprocess,
    validate_manifest,
    write_config,
)
from typer.testing import Result

Run = Callable[..., Result]


def test_exec_without_a_command_is_a_usage_error(run_cli: Run, tmp_path: Path) -> None:
    """Nothing after ``--``: exit 2 with an example, nothing written."""
    result = run_cli("exec")
    assert result.exit_code == 2
    assert result.stderr == (
        "codex-orchestrator: error: exec needs a command after --, "
        "e.g. codex-orchestrator exec -- make test\n"
    )
    assert not (tmp_path / ".runs").exists()


@pytest.mark.integration
@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_code_is_the_commands(tmp_path: Path, code: int) -> None:
    """``exec -- sh -c 'exit N'`` exits N."""
    result, document, _ = exec_json(tmp_path, "sh", "-c", f"exit {code}")
    assert result.returncode == code
    assert document["status"] == ("succeeded" if code == 0 else "failed")


@pytest.mark.integration
def test_killed_command_exits_128_plus_signal(tmp_path: Path) -> None:
    """A command ended by a signal exits as a shell reports it: 128 + signal number."""
    result, document, _ = exec_json(tmp_path, "sh", "-c", "kill -KILL $$")
    assert result.returncode == 128 + 9
    assert document["status"] == "failed"


@pytest.mark.integration
def test_signal_of_the_stage_shell_is_recorded(tmp_path: Path) -> None:
    """When the stage's own shell is killed, the record has the signal and no exit code."""
    write_config(tmp_path, pipeline("p", command("suicide", "kill -TERM $$")))
    result = run_cli_subprocess(tmp_path, "start", "--format", "json")
    assert result.returncode == 1
    run = only_run(tmp_path)
    (record,) = run.manifest()["commands"]
    assert (record["exit_code"], record["signal"]) == (None, "SIGTERM")
    assert record["summary"] == "Terminated with signal SIGTERM"
    details = run.error("01-suicide")["details"]
    assert (details["exit_code"], details["signal"]) == (None, "SIGTERM")


@pytest.mark.integration
def test_exec_is_a_one_stage_run_of_pipeline_exec(tmp_path: Path) -> None:
    """pipeline_id ``exec``; the stage's command is the argv, quoted; evidence as for start."""
    result, document, run = exec_json(tmp_path, "printf", "%s\\n", "a b", "it's")
    assert result.returncode == 0, result.stderr
    assert document["pipeline_id"] == "exec"
    manifest = run.manifest()
    validate_manifest(manifest)
    (record,) = manifest["commands"]
    assert record["id"] == "exec"
    assert record["command"] == "printf '%s\\n' 'a b' 'it'\"'\"'s'"
    assert output_bytes(run.command_events("01-exec"), "stdout") == b"a b\nit's\n"
    assert manifest["summary"] == "Guardrails: spec-guard not configured for this pipeline."
    (line,) = run.metrics_lines()
    assert line["pipeline_id"] == "exec"


@pytest.mark.integration
def test_exec_options_before_the_command(tmp_path: Path) -> None:
    """``--task`` before ``--`` is ours; after it, flags belong to the command."""
    result = run_cli_subprocess(
        tmp_path, "exec", "--task", "t1", "--", "echo", "--task", "--format"
    )
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path, "t1")
    assert output_bytes(run.command_events("01-exec"), "stdout") == b"--task --format\n"
    assert f"log:      .runs/t1/cli/{run.run_id}/runner.ndjson" in result.stdout.splitlines()


@pytest.mark.integration
def test_command_not_found_exits_127(tmp_path: Path) -> None:
    """A missing program cannot start: exit 127 as a shell says, reason ``spawn-error``.

    exec runs its arguments directly (no shell), so the failure is the runner's to
    report, with the OS's words and the program's name.
    """
    result, document, run = exec_json(tmp_path, "definitely-not-a-program-xyz")
    assert result.returncode == 127
    assert document["status_detail"] == "stage:exec:failed"
    error = run.error("01-exec")
    assert error["reason"] == "spawn-error"
    assert "No such file or directory" in error["details"]["message"]
    assert "definitely-not-a-program-xyz" in error["details"]["message"]


@pytest.mark.integration
def test_exec_bad_task_is_refused(tmp_path: Path) -> None:
    """exec follows the same task id rules as start."""
    result = run_cli_subprocess(tmp_path, "exec", "--task", "..", "--", "true")
    assert result.returncode == 2
    assert "invalid task id" in one_error_line(result)
    assert not (tmp_path / ".runs").exists()


@pytest.mark.integration
def test_signal_ending_the_command_is_recorded(tmp_path: Path) -> None:
    """exec runs its arguments directly: a command killed by SIGTERM records the signal."""
    result, document, run = exec_json(tmp_path, "sh", "-c", "kill -TERM $$")
    assert result.returncode == 128 + 15
    record = run.manifest()["commands"][0]
    assert (record["exit_code"], record["signal"]) == (None, "SIGTERM")
    assert document["status"] == "failed"
