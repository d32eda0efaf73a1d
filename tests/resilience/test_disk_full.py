"""A full disk mid-run: the stage ends, stderr says why, the last good manifest stays.

We run as root, so permissions cannot make ``.runs`` refuse writes. RLIMIT_FSIZE can:
the runner (exec-ed by a small wrapper that lowers it and ignores SIGXFSZ) gets EFBIG
for any write past the limit, as it would get ENOSPC from a full disk.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import orjson
import pytest

from .helpers import (
    FSIZE_WRAPPER,
    Project,
    command_stage,
    manifest_of,
    one_line_error,
    read_ndjson,
    read_pids,
    run_events,
    stage_status,
    wait_gone,
)

pytestmark = pytest.mark.integration


def start_limited(project: Project, limit: int, *args: str) -> tuple[int, bytes, bytes]:
    """``start`` with every file write capped at ``limit`` bytes."""
    runner = project.spawn(argv=[sys.executable, "-c", FSIZE_WRAPPER, str(limit), "start", *args])
    code = runner.wait(timeout=100)
    return code, runner.stdout, runner.stderr


def leftover_temp_files(run_dir: Path) -> list[str]:
    """Temp files an interrupted atomic write would leave."""
    return sorted(p.name for p in run_dir.rglob("*.tmp"))


def test_a_flood_past_the_limit_ends_the_stage_and_keeps_a_good_manifest(
    project: Project,
) -> None:
    pids_file = project.track_pids(project.root / "pids")
    flood = "echo $$ >> pids; yes 0123456789012345678901234567890123456789"
    project.pipeline(command_stage("flood", flood), command_stage("later", "touch later-ran"))

    code, stdout, stderr = start_limited(project, 1024 * 1024, "--format", "json")

    assert code not in (0, 130)
    line = one_line_error(stderr)
    assert "File too large" in line
    assert stdout == b""  # no success document for a run that could not be recorded
    (flood_pid,) = read_pids(pids_file)
    wait_gone([flood_pid], "the flooding stage")
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)  # whole, valid JSON
    assert manifest["status"] != "succeeded"
    assert stage_status(manifest, "flood") != "succeeded"
    assert stage_status(manifest, "later") == "pending"
    assert not (project.root / "later-ran").exists()
    assert leftover_temp_files(run_dir) == []

    # With room again (and a stage that no longer floods), resume finishes the run and
    # its events stay readable after the torn last line the full disk left.
    project.pipeline(command_stage("flood", "echo calm"), command_stage("later", "true"))
    status = project.cli("status", "--run", run_dir.name, "--format", "json")
    assert status.returncode == 0, status.stderr
    assert orjson.loads(status.stdout)["activity"]["runner_alive"] is False

    resumed = project.cli("resume", "--run", run_dir.name, "--reason", "disk freed")

    assert resumed.returncode == 0, resumed.stderr
    assert manifest_of(run_dir)["status"] == "succeeded"
    log = _whole_lines(run_dir / "runner.ndjson")
    assert [e["reason"] for e in log if e["type"] == "run:resume"] == ["disk freed"]
    # The write the full disk cut short became one log:torn event, just before the resume.
    kinds = [e["type"] for e in log]
    assert kinds.count("log:torn") == 1
    assert kinds[kinds.index("log:torn") + 1] == "run:resume"
    commands = _whole_lines(run_dir / "commands" / "01-flood.ndjson")
    assert commands[-1]["type"] == "command:end"
    assert commands[-1]["status"] == "succeeded"


def _whole_lines(path: Path) -> list[dict[str, object]]:
    """The events of a file, every line valid JSON after the resume repaired it.

    The write that hit the full disk was cut short; the resumed runner turned that
    fragment into a ``log:torn`` event holding its bytes, so nothing is unreadable
    and nothing is lost.
    """
    events = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for event in events:
        if event["type"] == "log:torn":
            fragment = base64.b64decode(str(event["data_b64"]))
            # The cut can fall anywhere in the event, even one byte in.
            assert fragment[:8] == b'{"type":'[: len(fragment[:8])], fragment[:80]
            assert b"\n" not in fragment
    return events


def test_the_last_good_manifest_stays_when_the_manifest_outgrows_the_disk(
    project: Project,
) -> None:
    # A long title makes the manifest the biggest file of the run; stages with long last
    # lines make it grow as they finish. Calibrate on an unlimited run first
    # (in a task whose id is as long as the default one).
    title = "T" * 60_000
    stages = [command_stage(f"s{n}", f"printf '%0230d\\n' {n}") for n in range(1, 6)]
    project.configure({"id": "big", "title": title, "stages": stages})
    assert project.cli("start", "--task", "cal0").returncode == 0
    (calibration,) = (project.root / ".runs" / "cal0" / "cli").iterdir()
    final_size = (calibration / "manifest.json").stat().st_size
    assert (calibration / "runner.ndjson").stat().st_size < final_size // 4
    limit = final_size - 1000  # room for the first manifests, not for the last ones

    code, _, stderr = start_limited(project, limit)

    assert code not in (0, 130)
    assert "File too large" in one_line_error(stderr)
    run_dir = project.only_run()
    manifest_path = run_dir / "manifest.json"
    assert manifest_path.stat().st_size <= limit
    manifest = manifest_of(run_dir)  # the last state that fit, whole
    assert manifest["pipeline_title"] == title
    # The journal holds what the manifest could not: status merges it.
    shown = project.cli("status", "--run", run_dir.name, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert stage_status(orjson.loads(shown.stdout), "s1") == "succeeded"
    assert leftover_temp_files(run_dir) == []
    read_ndjson(run_dir / "runner.ndjson")  # every event line whole

    resumed = project.cli("resume", "--run", run_dir.name)

    assert resumed.returncode == 0, resumed.stderr
    finished = manifest_of(run_dir)
    assert finished["status"] == "succeeded"
    assert [c["status"] for c in finished["commands"]] == ["succeeded"] * 5
    assert [e["type"] for e in run_events(run_dir)].count("run:resume") == 1
