"""Config ``reports`` beside the manifest, and ``$GITHUB_STEP_SUMMARY``, at the end of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from .runs import cli, manifest, run_dir, start, write_config

REPORT_FILES = ("report.html", "report.junit.xml", "report.md", "report.trace.json")


def _config(*stages: dict[str, Any], **top: Any) -> dict[str, Any]:
    pipelines = [{"id": "p", "title": "P", "stages": list(stages)}]
    return {"defaultPipeline": "p", "pipelines": pipelines, **top}


def _stage(stage_id: str, command: str) -> dict[str, Any]:
    return {"kind": "command", "id": stage_id, "title": stage_id, "command": command}


def test_configured_reports_are_written_beside_the_manifest_and_renewed_on_resume(
    tmp_path: Path,
) -> None:
    write_config(
        tmp_path,
        _config(
            _stage("once", "test -f marker || { touch marker; echo broken; exit 1; }"),
            reports=["html", "junit", "markdown", "trace"],
        ),
    )
    first = start(tmp_path)
    assert first["exit_code"] == 1
    assert first["stderr"].count("warning") == 0
    folder = run_dir(tmp_path, first["run_id"])
    for name in REPORT_FILES:
        assert (folder / name).is_file(), name
    assert b"## \xe2\x9d\x8c P (p): failed" in (folder / "report.md").read_bytes()
    assert b"broken" in (folder / "report.junit.xml").read_bytes()
    resumed = cli(tmp_path, "resume", "--run", first["run_id"])
    assert resumed.returncode == 0, resumed.stderr
    assert (folder / "report.md").read_bytes().startswith(b"## \xe2\x9c\x85 P (p): succeeded")
    assert b"<failure" not in (folder / "report.junit.xml").read_bytes()
    trace = orjson.loads((folder / "report.trace.json").read_bytes())
    assert [e["name"] for e in trace["traceEvents"] if e["ph"] == "i"] == ["resume accepted"]


def test_no_reports_without_the_key(tmp_path: Path) -> None:
    write_config(tmp_path, _config(_stage("ok", "true")))
    document = start(tmp_path)
    folder = run_dir(tmp_path, document["run_id"])
    assert not any((folder / name).exists() for name in REPORT_FILES)


def test_a_report_that_cannot_be_written_is_a_warning_not_a_failed_run(tmp_path: Path) -> None:
    # The stage puts a directory where report.html goes: that write must fail.
    write_config(
        tmp_path,
        _config(
            _stage("block", 'mkdir "$CODEX_ORCHESTRATOR_RUN_DIR/report.html"'),
            reports=["html", "markdown"],
        ),
    )
    document = start(tmp_path)
    assert document["exit_code"] == 0
    assert document["status"] == "succeeded"
    warnings = [line for line in document["stderr"].splitlines() if "warning" in line]
    assert len(warnings) == 1, document["stderr"]
    assert "cannot write the html report" in warnings[0]
    folder = run_dir(tmp_path, document["run_id"])
    assert (folder / "report.md").is_file()
    assert manifest(tmp_path, document["run_id"])["status"] == "succeeded"


def test_the_step_summary_is_appended_at_the_end_of_every_run(tmp_path: Path) -> None:
    write_config(tmp_path, _config(_stage("hello", "echo '<script>x</script>'")))
    summary = tmp_path / "step-summary.md"
    summary.write_bytes(b"# earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    first = start(tmp_path, env=env)
    second = cli(tmp_path, "exec", "--format", "json", "--", "false", env=env)
    assert second.returncode == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## ✅ P (p): succeeded")
    assert f"Run `{first['run_id']}`" in text
    assert "## ❌ false (exec): failed" in text
    assert "<script>" not in text


def test_an_unwritable_step_summary_is_a_warning(tmp_path: Path) -> None:
    write_config(tmp_path, _config(_stage("ok", "true")))
    document = start(tmp_path, env={"GITHUB_STEP_SUMMARY": str(tmp_path)})
    assert document["exit_code"] == 0
    assert "cannot append the step summary" in document["stderr"]


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ("html", "codex.orchestrator.json: reports: must be an array, got string"),
        (["html", "pdf"], 'codex.orchestrator.json: reports[1]: unknown report format "pdf"'),
        ([3], "codex.orchestrator.json: reports[0]: must be a string"),
        (["junit", "junit"], 'codex.orchestrator.json: reports[1]: "junit" is listed twice'),
    ],
)
def test_bad_reports_key_is_a_config_error(tmp_path: Path, reports: Any, message: str) -> None:
    write_config(tmp_path, _config(_stage("ok", "true"), reports=reports))
    result = cli(tmp_path, "start", "--format", "json")
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"codex-orchestrator: error: {message}")
    assert not (tmp_path / ".runs").exists()
