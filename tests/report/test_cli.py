"""``report (--run ID | --latest) [--task T] [--format F] [--out FILE]`` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .runs import SampleRuns, cli

ERROR = b"codex-orchestrator: error: "


def test_html_on_stdout_by_default(sample_runs: SampleRuns) -> None:
    result = cli(sample_runs.project, "report", "--run", sample_runs.ci)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"<!DOCTYPE html>")
    assert result.stderr == b""


def test_out_writes_the_file_and_nothing_on_stdout(sample_runs: SampleRuns, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    result = cli(
        sample_runs.project,
        "report",
        "--run",
        sample_runs.ci,
        "--task",
        "0101",
        "--format",
        "junit",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert out.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_a_child_run_has_its_own_report(sample_runs: SampleRuns) -> None:
    result = cli(sample_runs.project, "report", "--run", sample_runs.child, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"## \xe2\x9c\x85 Checks (checks): succeeded")


def test_latest_is_the_run_status_latest_shows(sample_runs: SampleRuns) -> None:
    """``--latest`` names the same run as ``status --latest``: the newest parentless run."""
    import json

    shown = cli(sample_runs.project, "status", "--latest", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    newest = json.loads(shown.stdout)["run_id"]
    latest = cli(sample_runs.project, "report", "--latest", "--format", "junit")
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout == sample_runs.report(newest, "junit")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], b"give exactly one of --run ID or --latest"),
        (["--run", "{ci}", "--latest"], b"give exactly one of --run ID or --latest"),
        (
            ["--run", "2020-01-01T00-00-00-000Z-00000000"],
            b"run 2020-01-01T00-00-00-000Z-00000000 not found",
        ),
        (["--run", "../etc"], b"invalid run id '../etc': contains a path separator"),
        (["--run", "{ci}", "--task", "other"], b"not found in task other"),
        (["--run", "{ci}", "--format", "pdf"], b"Invalid value for '--format'"),
        (["--run", "{ci}", "--out", "{tmp}"], b"is a directory"),
        (["--run", "{ci}", "--out", "{tmp}/missing/report.html"], b"does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    sample_runs: SampleRuns, tmp_path: Path, args: list[str], message: bytes
) -> None:
    filled = [a.format(ci=sample_runs.ci, tmp=tmp_path) for a in args]
    result = cli(sample_runs.project, "report", *filled)
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR)
    assert message in lines[0]
    assert result.stdout == b""
