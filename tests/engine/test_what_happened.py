"""What a run says happened: causes kept, skipped runs named plainly, where things are."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import (
    command,
    json_document,
    only_run,
    pipeline,
    run_cli_subprocess,
    run_ids,
    write_config,
)


@pytest.mark.integration
def test_status_detail_keeps_the_stage_cause_when_the_metrics_line_fails(tmp_path: Path) -> None:
    write_config(tmp_path, pipeline("p", command("build", "exit 4")))
    (tmp_path / ".runs" / "0101" / "metrics.json").mkdir(parents=True)  # appending fails

    result = run_cli_subprocess(tmp_path, "start", "p")

    assert result.returncode == 3
    manifest = only_run(tmp_path).manifest()
    assert manifest["status"] == "failed"
    assert manifest["status_detail"] == "stage:build:failed"
    summary = manifest["summary"].splitlines()
    assert summary[0] == "Stage 'build' failed with exit code 4."
    assert "metrics.json" in summary[-1]
    assert manifest["metrics_recorded"] is False


def _git_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=60)
    return path


@pytest.mark.integration
def test_start_from_a_subdirectory_uses_the_repository_config_and_runs_dir(
    tmp_path: Path,
) -> None:
    repo = _git_repo(tmp_path / "repo")
    write_config(repo, pipeline("ci", command("where", "pwd > where.txt")))
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)

    result = run_cli_subprocess(sub, "start", "--format", "json")

    assert result.returncode == 0, result.stderr
    document = json_document(result)
    assert document["pipeline_id"] == "ci"
    assert (repo / "where.txt").read_text().strip() == str(repo.resolve())
    assert len(run_ids(repo)) == 1
    assert not (sub / ".runs").exists()
    assert not (repo / "src" / ".runs").exists()
    status = run_cli_subprocess(sub, "status", "--latest", "--format", "json")
    assert json_document(status)["run_id"] == document["run_id"]


@pytest.mark.integration
def test_without_a_config_the_git_top_level_is_the_root(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    result = run_cli_subprocess(sub, "exec", "--format", "json", "--", "true")
    assert result.returncode == 0, result.stderr
    assert len(run_ids(repo)) == 1
    assert not (sub / ".runs").exists()


@pytest.mark.integration
def test_a_config_above_a_directory_outside_git_is_not_used(tmp_path: Path) -> None:
    write_config(tmp_path, pipeline("ci", command("a", "true")))
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    result = run_cli_subprocess(sub, "plan", "--format", "json")
    assert json_document(result)["pipeline_id"] == "diagnostics"


@pytest.mark.integration
def test_a_run_whose_every_stage_was_skipped_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli_subprocess(empty, "start", "diagnostics")
    assert result.returncode == 0, result.stderr
    assert "Every stage was skipped (4 of 4): nothing ran." in result.stdout
    summary = only_run(empty).manifest()["summary"]
    assert summary.splitlines()[0] == "Every stage was skipped (4 of 4): nothing ran."


@pytest.mark.integration
def test_peak_rss_is_null_when_not_measured_never_zero(tmp_path: Path) -> None:
    """``true`` ends before any sample: its peak RSS is unknown (null), not 0 bytes."""
    write_config(tmp_path, pipeline("p", *(command(f"s{n}", "true") for n in range(5))))
    result = run_cli_subprocess(tmp_path, "start", "p")
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path)
    manifest = run.manifest()
    values = [c["resources"]["peak_rss_bytes"] for c in manifest["commands"]]
    values.append(manifest["resources"]["peak_rss_bytes"])
    values += [e["resources"]["peak_rss_bytes"] for e in run.events() if e["type"] == "command:end"]
    values.append(run.metrics_lines()[-1]["resources"]["peak_rss_bytes"])
    assert 0 not in values
    assert None in values
    assert all(v is None or v > 0 for v in values)
