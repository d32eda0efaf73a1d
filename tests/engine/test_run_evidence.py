"""The evidence one run leaves on disk, checked against DESIGN.md file by file."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    ISO_RE,
    RUN_ID_RE,
    RunFiles,
    command,
    output_bytes,
    pipeline,
    run_ids,
    start_json,
    tree,
    validate_manifest,
    write_config,
)

from codex_orchestrator import __version__

pytestmark = pytest.mark.integration

# Lock files sit beside what they guard; DESIGN.md does not list them, nothing else may appear.
# Lock files and the lock-owner record sit beside the evidence (see .runs/README.md).
LOCK_FILES = {".run.lock", ".run.owner", "manifest.json.lock"}
METRICS_FIELDS = {
    "run_id",
    "task_id",
    "pipeline_id",
    "parent_run_id",
    "started_at",
    "completed_at",
    "duration_seconds",
    "status",
    "commands_passed",
    "commands_failed",
    "commands_skipped",
    "guardrails_present",
    "child_runs",
    "artifact_path",
    "recorded_at",
    "resources",
}
ERROR_FIELDS = {
    "run_id",
    "task_id",
    "command_index",
    "command_id",
    "command",
    "reason",
    "details",
    "created_at",
}
ERROR_DETAIL_FIELDS = {
    "exit_code",
    "signal",
    "duration_ms",
    "stdout_tail",
    "stderr_tail",
    "stdout_truncated",
    "stderr_truncated",
}
TAIL = 8 * 1024
# 12 KiB of numbered lines on stderr, so the tail's start is easy to check.
NOISY = "i=0; while [ $i -lt 1200 ]; do printf 'err-%05d\\n' $i >&2; i=$((i+1)); done; exit 3"


class Failed:
    """A failed run of ``ci``: build succeeds, check fails loudly, deploy never runs."""

    def __init__(self, project: Path) -> None:
        write_config(
            project,
            pipeline(
                "ci",
                command("Build It", "echo built; echo warn >&2", title="Build it"),
                command("check", NOISY, title="Check"),
                command("deploy", "echo deploying", title="Deploy"),
                title="Continuous integration",
            ),
        )
        self.result, self.document, self.run = start_json(project)
        self.manifest = self.run.manifest()
        self.events = self.run.events()


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Failed:
    """One failed run shared by the tests that only read it."""
    return Failed(tmp_path_factory.mktemp("failed"))


def test_run_id_and_directory_layout(failed: Failed) -> None:
    """``.runs/<task>/cli/<run-id>/`` holds exactly the documented files."""
    run = failed.run
    assert RUN_ID_RE.match(run.run_id), run.run_id
    assert run_ids(run.project) == [run.run_id]
    assert tree(run.run_dir) - LOCK_FILES == {
        "manifest.json",
        "runner.ndjson",
        ".heartbeat",
        ".resume-token",
        "commands",
        "commands/01-build-it.ndjson",
        "commands/02-check.ndjson",
        "errors",
        "errors/02-check.json",
        # Kept artifacts (LAYERS.md section 2): two stage instances and the collected run.
        "artifacts",
        "artifacts/metadata.json",
        "artifacts/summary.md",
        "artifacts/index.json",
        "artifacts/instances",
        *(
            f"artifacts/instances/{stem}{name}"
            for stem in ("01-build-it", "02-check")
            for name in ("", "/workspace", "/output.log", "/metadata.json")
        ),
    }
    assert tree(run.task_dir) - {"metrics.json.lock"} == {
        "cli",
        f"cli/{run.run_id}",
        *(f"cli/{run.run_id}/{name}" for name in tree(run.run_dir)),
        "mcp",
        f"mcp/{run.run_id}",
        "metrics.json",
    }


def test_manifest_validates_and_records_the_run(failed: Failed) -> None:
    """``manifest.json`` fits the shipped schema and says what happened, paths relative."""
    manifest = failed.manifest
    run = failed.run
    validate_manifest(manifest)
    base = f".runs/0101/cli/{run.run_id}"
    assert manifest["run_id"] == run.run_id
    assert manifest["task_id"] == "0101"
    assert manifest["pipeline_id"] == "ci"
    assert manifest["pipeline_title"] == "Continuous integration"
    assert manifest["runner"] == "codex-cli"
    assert manifest["runner_version"] == f"codex-orchestrator {__version__} (python)"
    assert manifest["host"] == socket.gethostname()
    assert manifest["config_path"] == "codex.orchestrator.json"
    assert manifest["status"] == "failed"
    assert manifest["status_detail"] == "stage:check:failed"
    assert manifest["artifact_root"] == base
    assert manifest["log_path"] == f"{base}/runner.ndjson"
    assert manifest["compat_path"] == f".runs/0101/mcp/{run.run_id}"
    assert manifest["heartbeat_interval_seconds"] == 10
    assert manifest["heartbeat_stale_after_seconds"] == 30
    assert manifest["metrics_recorded"] is True
    for key in ("started_at", "completed_at", "updated_at", "heartbeat_at"):
        assert ISO_RE.match(manifest[key]), (key, manifest[key])
    assert manifest["started_at"] <= manifest["completed_at"] <= manifest["updated_at"]


def test_command_records(failed: Failed) -> None:
    """Each stage's record: how it ended, where its log and error file are."""
    base = f".runs/0101/cli/{failed.run.run_id}"
    build, check, deploy = failed.manifest["commands"]
    assert (build["index"], build["id"], build["title"], build["kind"]) == (
        1,
        "Build It",
        "Build it",
        "command",
    )
    assert (build["status"], build["exit_code"], build["error_file"]) == ("succeeded", 0, None)
    assert build["summary"] == "built"
    assert build["log_path"] == f"{base}/commands/01-build-it.ndjson"
    assert (check["status"], check["exit_code"], check["signal"]) == ("failed", 3, None)
    assert check["error_file"] == f"{base}/errors/02-check.json"
    assert check["summary"].startswith("Exited with code 3 — err-01199")
    for record in (build, check):
        assert ISO_RE.match(record["started_at"])
        assert ISO_RE.match(record["completed_at"])
        assert record["duration_ms"] >= 0
        assert record["sub_run_id"] is None
    assert deploy["status"] == "pending"
    assert deploy["command"] == "echo deploying"
    for key in ("started_at", "completed_at", "exit_code", "log_path", "error_file"):
        assert deploy[key] is None, key


def test_json_document_and_exit_code(failed: Failed) -> None:
    """Exit 1 and one JSON document naming the run and where its evidence is."""
    assert failed.result.returncode == 1
    document = failed.document
    base = f".runs/0101/cli/{failed.run.run_id}"
    assert document == {
        "run_id": failed.run.run_id,
        "task_id": "0101",
        "pipeline_id": "ci",
        "status": "failed",
        "status_detail": "stage:check:failed",
        "artifact_root": base,
        "manifest": f"{base}/manifest.json",
        "log_path": f"{base}/runner.ndjson",
        "summary": failed.manifest["summary"],
    }
    assert document["summary"].splitlines()[0] == "Stage 'Check' failed with exit code 3."


def test_runner_events_in_order(failed: Failed) -> None:
    """run:start, then per command start / output / end, then run:end; nothing for deploy."""
    events = failed.events
    for event in events:
        assert set(event) >= {"type", "timestamp"}
        assert ISO_RE.match(event["timestamp"])
        if event["type"].startswith("command:"):
            assert event["index"] in (1, 2)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "run:start"
    assert kinds[-1] == "run:end"
    assert events[-1]["status"] == "failed"
    starts = [event for event in events if event["type"] == "command:start"]
    assert [(event["index"], event["id"], event["command"]) for event in starts] == [
        (1, "Build It", "echo built; echo warn >&2"),
        (2, "check", NOISY),
    ]
    ends = [event for event in events if event["type"] == "command:end"]
    assert [(event["index"], event["exit_code"], event["status"]) for event in ends] == [
        (1, 0, "succeeded"),
        (2, 3, "failed"),
    ]
    for end in ends:
        assert end["signal"] is None
        assert isinstance(end["duration_ms"], int)
        assert end["duration_ms"] >= 0
        assert set(end["resources"]) == {"cpu_seconds", "peak_rss_bytes"}
    for index in (1, 2):
        own = [event["type"] for event in events if event.get("index") == index]
        assert own[0] == "command:start"
        assert own[-1] == "command:end"
        assert set(own[1:-1]) <= {"command:stdout", "command:stderr"}


def test_output_events_carry_the_lines(failed: Failed) -> None:
    """Output lines with seq counting up within the command, across both streams."""
    events = failed.events
    first = [event for event in events if event.get("index") == 1 and "seq" in event]
    assert output_bytes(first, "stdout") == b"built\n"
    assert output_bytes(first, "stderr") == b"warn\n"
    second = [event for event in events if event.get("index") == 2 and "seq" in event]
    expected = "".join(f"err-{n:05d}\n" for n in range(1200)).encode()
    assert output_bytes(second, "stderr") == expected
    for own in (first, second):
        assert [event["seq"] for event in own] == list(range(1, len(own) + 1))


def test_command_files_hold_exactly_their_command_events(failed: Failed) -> None:
    """``commands/NN-slug.ndjson`` is the command's slice of runner.ndjson, byte for byte."""
    run = failed.run
    for index, stem in ((1, "01-build-it"), (2, "02-check")):
        own = [event for event in failed.events if event.get("index") == index]
        assert run.command_events(stem) == own


def test_error_file_of_a_failed_command(failed: Failed) -> None:
    """``errors/02-check.json``: who failed, why, and the last 8 KiB of each stream."""
    error = failed.run.error("02-check")
    assert set(error) == ERROR_FIELDS
    assert error["run_id"] == failed.run.run_id
    assert error["task_id"] == "0101"
    assert (error["command_index"], error["command_id"], error["command"]) == (2, "check", NOISY)
    assert error["reason"] == "command-failed"
    assert ISO_RE.match(error["created_at"])
    details = error["details"]
    assert set(details) == ERROR_DETAIL_FIELDS
    assert (details["exit_code"], details["signal"]) == (3, None)
    stderr = "".join(f"err-{n:05d}\n" for n in range(1200))
    assert len(stderr) > TAIL
    assert details["stderr_tail"] == stderr[-TAIL:]
    assert details["stderr_truncated"] is True
    assert (details["stdout_tail"], details["stdout_truncated"]) == ("", False)


def test_heartbeat_file(failed: Failed) -> None:
    """``.heartbeat``: an ISO timestamp and a newline, no later than the run's end."""
    content = (failed.run.run_dir / ".heartbeat").read_text()
    assert content.endswith("\n")
    assert ISO_RE.match(content[:-1]), content
    assert failed.manifest["started_at"] <= content[:-1] <= failed.manifest["completed_at"]


def test_resume_token_is_private_and_only_hashed_in_the_manifest(failed: Failed) -> None:
    """64 hex chars + newline, mode 0600; the manifest holds only ``sha256:`` of it."""
    path = failed.run.run_dir / ".resume-token"
    content = path.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", content), content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = content.strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert failed.manifest["resume_token"] == f"sha256:{digest}"
    for entry in failed.run.task_dir.rglob("*"):
        if entry.is_file() and entry != path:
            assert token.encode() not in entry.read_bytes(), entry
    assert token not in failed.result.stdout + failed.result.stderr


def test_compat_pointer_is_a_relative_symlink(failed: Failed) -> None:
    """``.runs/<task>/mcp/<run-id>`` -> ``../cli/<run-id>``, reaching the same manifest."""
    pointer = failed.run.task_dir / "mcp" / failed.run.run_id
    assert pointer.is_symlink()
    assert os.readlink(pointer) == f"../cli/{failed.run.run_id}"
    assert (pointer / "manifest.json").read_bytes() == failed.run.manifest_path.read_bytes()


def test_metrics_line(failed: Failed) -> None:
    """metrics.json gets one line for the run, with the documented fields."""
    (line,) = failed.run.metrics_lines()
    assert set(line) == METRICS_FIELDS
    manifest = failed.manifest
    expected: dict[str, Any] = {
        "run_id": manifest["run_id"],
        "task_id": "0101",
        "pipeline_id": "ci",
        "parent_run_id": None,
        "started_at": manifest["started_at"],
        "completed_at": manifest["completed_at"],
        "status": "failed",
        "commands_passed": 1,
        "commands_failed": 1,
        "commands_skipped": 0,
        "guardrails_present": False,
        "child_runs": 0,
        "artifact_path": manifest["artifact_root"],
    }
    assert {key: line[key] for key in expected} == expected
    assert line["duration_seconds"] >= 0
    assert ISO_RE.match(line["recorded_at"])
    assert set(line["resources"]) == {"cpu_seconds", "peak_rss_bytes"}


def test_files_are_readable_by_reviewers(failed: Failed) -> None:
    """Evidence other users and CI uploaders must read is not private (only the token is)."""
    run = failed.run
    for path in (
        run.manifest_path,
        run.run_dir / "runner.ndjson",
        run.run_dir / ".heartbeat",
        run.run_dir / "errors" / "02-check.json",
        run.command_log("01-build-it"),
        run.task_dir / "metrics.json",
    ):
        assert path.stat().st_mode & 0o044 == 0o044, path


def test_each_run_adds_one_metrics_line(tmp_path: Path) -> None:
    """Two runs of a task: two metrics lines, in order, each run once; both manifests say so."""
    write_config(tmp_path, pipeline("ci", command("ok", "true")))
    first = start_json(tmp_path)[2]
    second = start_json(tmp_path)[2]
    lines = RunFiles(tmp_path, "0101", first.run_id).metrics_lines()
    assert [line["run_id"] for line in lines] == [first.run_id, second.run_id]
    assert all(line["status"] == "succeeded" for line in lines)
    assert first.manifest()["metrics_recorded"] is True
    assert second.manifest()["metrics_recorded"] is True
