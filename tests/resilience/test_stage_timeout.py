"""``timeoutMs`` and ``--stage-timeout`` are enforced: TERM, a grace, KILL; command-timeout."""

from __future__ import annotations

import orjson
import pytest

from .helpers import (
    Project,
    command_events,
    command_stage,
    error_file,
    manifest_of,
    output_bytes,
    read_pids,
    stage_record,
    stage_status,
    wait_gone,
)

pytestmark = pytest.mark.integration


def test_timeout_terminates_the_stage_records_its_exit_code_and_fails_the_run(
    project: Project,
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    # The shell answers SIGTERM with its own exit code; its background job must end too.
    # The trap comes first, so it is set long before the deadline.
    hang = (
        "trap 'echo got-term; exit 143' TERM; "
        "echo $$ >> pids; sleep 300 & echo $! >> pids; echo started; wait"
    )
    project.pipeline(
        command_stage("hang", hang, timeoutMs=1000), command_stage("later", "touch later-ran")
    )

    result = project.cli("start", "--format", "json")

    assert result.returncode == 1, result.stderr
    assert orjson.loads(result.stdout)["status"] == "failed"
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "failed"
    assert manifest["status_detail"] == "stage:hang:failed"
    record = stage_record(manifest, "hang")
    assert record["status"] == "failed"
    assert record["exit_code"] == 143
    assert "Timed out after 1000ms" in record["summary"]
    report = error_file(run_dir, "01-hang")
    assert report["reason"] == "command-timeout"
    assert report["details"]["exit_code"] == 143
    # TERM came first: the shell's trap ran and printed.
    assert output_bytes(command_events(run_dir, "01-hang")) == b"started\ngot-term\n"
    assert stage_status(manifest, "later") == "pending"
    assert not (project.root / "later-ran").exists()
    tree = read_pids(pids_file)
    assert len(tree) == 2
    wait_gone(tree, "the timed-out stage's tree")
    assert [m["status"] for m in project.metrics()] == ["failed"]


def test_stage_timeout_option_is_the_default_and_timeout_ms_overrides_it(
    project: Project,
) -> None:
    project.track_pids(project.root / "pids")
    project.pipeline(
        command_stage("patient", "sleep 1; echo patient-done", timeoutMs=60_000),
        command_stage("default", "echo $$ >> pids; exec sleep 300"),
    )

    result = project.cli("start", "--stage-timeout", "300")

    assert result.returncode == 1, result.stderr
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)
    # The stage's own timeoutMs (60 s) wins over the 300 ms default.
    assert stage_status(manifest, "patient") == "succeeded"
    record = stage_record(manifest, "default")
    assert record["status"] == "failed"
    assert record["signal"] == "SIGTERM"
    assert record["exit_code"] is None
    assert "Timed out after 300ms" in record["summary"]
    assert error_file(run_dir, "02-default")["reason"] == "command-timeout"
    (default_pid,) = read_pids(project.root / "pids")
    wait_gone([default_pid], "the timed-out stage")


def test_timeout_escalates_to_kill_and_allow_failure_lets_the_run_succeed(
    project: Project,
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    deaf = "trap '' TERM; echo $$ >> pids; while :; do sleep 1; done"
    project.pipeline(
        command_stage("deaf", deaf, timeoutMs=1000, allowFailure=True),
        command_stage("after", "echo after-ran"),
    )

    result = project.cli("start", "--format", "json")

    assert result.returncode == 0, result.stderr
    manifest = manifest_of(project.only_run())
    assert manifest["status"] == "succeeded"
    record = stage_record(manifest, "deaf")
    assert record["status"] != "succeeded"
    assert record["signal"] == "SIGKILL"
    assert "Timed out after 1000ms" in record["summary"]
    assert stage_status(manifest, "after") == "succeeded"
    (deaf_pid,) = read_pids(pids_file)
    wait_gone([deaf_pid], "the TERM-deaf stage")
