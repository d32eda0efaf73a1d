"""Hostile output is captured exactly with bounded memory.

A 5 MB line, a million lines, binary bytes, a command that closes stdout early but
keeps running, a command that never prints. Memory is the runner's peak RSS as the
kernel recorded it (``RUSAGE_CHILDREN`` of a wrapper whose only child is the runner).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .helpers import (
    PEAK_RSS_WRAPPER,
    Project,
    command_events,
    command_stage,
    manifest_of,
    output_bytes,
    read_pids,
    run_events,
    stage_record,
)

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
# The runner may hold a bounded amount beyond what a trivial run needs; holding a
# whole 5 MB line several times over, or a million lines as objects, exceeds it.
EXTRA_MEMORY_BOUND = 24 * MIB
MEMORY_CEILING = 100 * MIB


def start_measured(project: Project, pipeline: str) -> int:
    """Run ``start <pipeline>`` under the RSS wrapper; return the runner's peak RSS."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, "start", pipeline, "--format", "json"],
        cwd=project.root,
        capture_output=True,
        timeout=200,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    code, peak = result.stdout.split()
    assert int(code) == 0, result.stderr
    return int(peak)


def run_of(project: Project, pipeline: str) -> dict[str, object]:
    """The manifest of the one run of ``pipeline``."""
    for run_dir in project.run_dirs():
        manifest = manifest_of(run_dir)
        if manifest["pipeline_id"] == pipeline:
            return manifest
    raise AssertionError(f"no run of {pipeline}")


def configure_with_baseline(project: Project, command: str) -> None:
    """Two pipelines: ``baseline`` prints one line, ``big`` runs ``command``."""
    project.configure(
        {"id": "baseline", "title": "Baseline", "stages": [command_stage("out", "echo hi")]},
        {"id": "big", "title": "Big", "stages": [command_stage("out", command)]},
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_million_lines_are_captured_exactly_in_bounded_memory(project: Project) -> None:
    configure_with_baseline(project, "seq 1 1000000")
    baseline = start_measured(project, "baseline")

    peak = start_measured(project, "big")

    assert peak < MEMORY_CEILING
    assert peak - baseline < EXTRA_MEMORY_BOUND, (peak, baseline)
    run_dir = next(d for d in project.run_dirs() if manifest_of(d)["pipeline_id"] == "big")
    events = command_events(run_dir, "01-out")
    stdout = [e for e in events if e["type"] == "command:stdout"]
    assert len(stdout) == 1_000_000
    assert [e["seq"] for e in stdout] == list(range(1, 1_000_001))
    expected = b"".join(b"%d\n" % n for n in range(1, 1_000_001))
    assert output_bytes(stdout) == expected
    # runner.ndjson holds the same lines once each.
    assert output_bytes(run_events(run_dir)) == expected
    # The kept transcript (output.log) has the same bytes, written within the same memory.
    assert (run_dir / "artifacts/instances/01-out/output.log").read_bytes() == expected


@pytest.mark.slow
@pytest.mark.parametrize("newline", [True, False], ids=["ended", "unended"])
def test_a_5mb_line_is_captured_exactly_in_bounded_memory(project: Project, newline: bool) -> None:
    size = 5 * MIB
    command = f"head -c {size} /dev/zero | tr '\\0' x" + ("; echo" if newline else "")
    configure_with_baseline(project, command)
    baseline = start_measured(project, "baseline")

    peak = start_measured(project, "big")

    assert peak < MEMORY_CEILING
    assert peak - baseline < EXTRA_MEMORY_BOUND, (peak, baseline)
    run_dir = next(d for d in project.run_dirs() if manifest_of(d)["pipeline_id"] == "big")
    events = command_events(run_dir, "01-out")
    assert output_bytes(events) == b"x" * size + (b"\n" if newline else b"")
    kept = run_dir / "artifacts/instances/01-out/output.log"
    assert kept.read_bytes() == b"x" * size + (b"\n" if newline else b"")
    pieces = [e for e in events if e["type"] == "command:stdout"]
    assert len(pieces) > 1  # split into pieces, not held as one
    assert [e["seq"] for e in pieces] == list(range(1, len(pieces) + 1))
    assert all(e.get("partial") for e in pieces[:-1])
    assert bool(pieces[-1].get("partial")) is not newline


def test_binary_output_is_captured_byte_for_byte(project: Project) -> None:
    # Random bytes (every value, invalid UTF-8, NULs, lone CRs) on stdout and stderr.
    project.pipeline(
        command_stage(
            "bin",
            "head -c 1048576 /dev/urandom | tee expected-out.bin; "
            "head -c 65536 /dev/urandom | tee expected-err.bin >&2",
        )
    )

    result = project.cli("start")

    assert result.returncode == 0, result.stderr
    run_dir = project.only_run()
    for events in (command_events(run_dir, "01-bin"), run_events(run_dir)):
        assert output_bytes(events, "stdout") == (project.root / "expected-out.bin").read_bytes()
        assert output_bytes(events, "stderr") == (project.root / "expected-err.bin").read_bytes()


def test_a_command_that_closes_stdout_early_is_waited_for(project: Project) -> None:
    project.pipeline(
        command_stage(
            "closer",
            "echo before; exec 1>&-; sleep 1; echo after-close >&2; touch finished; exit 3",
            allowFailure=True,
        ),
        command_stage(
            "silent", "exec 1>&- 2>&-; sleep 1; touch finished-too; exit 4", allowFailure=True
        ),
    )

    result = project.cli("start")

    assert result.returncode == 0, result.stderr
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)
    # The runner waited for each exit, not just for the end of the output.
    assert stage_record(manifest, "closer")["exit_code"] == 3
    assert stage_record(manifest, "silent")["exit_code"] == 4
    events = command_events(run_dir, "01-closer")
    assert output_bytes(events, "stdout") == b"before\n"
    assert output_bytes(events, "stderr") == b"after-close\n"
    assert output_bytes(command_events(run_dir, "02-silent")) == b""
    assert (project.root / "finished").exists()
    assert (project.root / "finished-too").exists()


def test_a_command_that_never_prints(project: Project) -> None:
    project.pipeline(command_stage("quiet", "sleep 1"))

    result = project.cli("start")

    assert result.returncode == 0, result.stderr
    run_dir = project.only_run()
    events = command_events(run_dir, "01-quiet")
    assert [e["type"] for e in events] == ["command:start", "command:session", "command:end"]
    assert events[-1]["exit_code"] == 0
    assert stage_record(manifest_of(run_dir), "quiet")["status"] == "succeeded"


def test_a_background_job_holding_stdout_open_does_not_hang_the_run(project: Project) -> None:
    pids = project.track_pids(project.root / "pids")
    project.pipeline(
        command_stage("leaver", "sleep 300 & echo $! >> pids; echo done"),
        command_stage("next", "echo next"),
    )

    result = project.cli("start")

    assert result.returncode == 0, result.stderr
    assert read_pids(pids)
    run_dir = project.only_run()
    assert output_bytes(command_events(run_dir, "01-leaver")) == b"done\n"
    assert stage_record(manifest_of(run_dir), "next")["status"] == "succeeded"
