"""A command that cannot be started: reason spawn-error, a clear summary, a clean failure."""

from __future__ import annotations

import orjson
import pytest

from .helpers import Project, command_stage, error_file, manifest_of, stage_record, stage_status

pytestmark = pytest.mark.integration

# Linux refuses a single exec argument over 128 KiB (MAX_ARG_STRLEN): exec fails, E2BIG.
TOO_LONG = "echo " + "x" * 200_000


@pytest.mark.parametrize(
    ("stage_options", "make_file", "expected_in_summary"),
    [
        ({"cwd": "no/such/dir"}, False, "no/such/dir"),
        ({"cwd": "a-file"}, True, "a-file"),
        ({"command": TOO_LONG}, False, "Argument list too long"),
    ],
    ids=["missing-cwd", "cwd-is-a-file", "exec-e2big"],
)
def test_a_stage_that_cannot_start_fails_the_run_cleanly(
    project: Project,
    stage_options: dict[str, str],
    make_file: bool,
    expected_in_summary: str,
) -> None:
    if make_file:
        (project.root / "a-file").write_text("not a directory\n")
    options = {"command": "touch started", **stage_options}
    command = options.pop("command")
    project.pipeline(
        command_stage("first", "echo first"),
        command_stage("broken", command, **options),
        command_stage("later", "touch later-ran"),
    )

    result = project.cli("start", "--format", "json")

    assert result.returncode == 1, result.stderr
    assert b"Traceback" not in result.stderr
    assert orjson.loads(result.stdout)["status"] == "failed"
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "failed"
    assert manifest["status_detail"] == "stage:broken:failed"
    assert stage_status(manifest, "first") == "succeeded"
    record = stage_record(manifest, "broken")
    assert record["status"] == "failed"
    assert record["exit_code"] is None
    assert record["summary"].startswith("Could not start")
    assert expected_in_summary in record["summary"]
    report = error_file(run_dir, "02-broken")
    assert report["reason"] == "spawn-error"
    assert expected_in_summary in report["details"]["message"]
    assert stage_status(manifest, "later") == "pending"
    assert not (project.root / "started").exists()
    assert not (project.root / "later-ran").exists()
    assert [m["status"] for m in project.metrics()] == ["failed"]
    assert manifest["metrics_recorded"] is True
