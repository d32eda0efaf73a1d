"""Runs the TypeScript tool (npm ``@kbediako/codex-orchestrator`` 0.2.1) wrote, resumed by us.

The fixture under ``tests/fixtures/ts-0.2.1`` is a failed run exactly as that tool left
it on disk (its workspace path replaced by ``/srv/project``): a plain-text resume token
in the manifest and in ``.resume-token``, and fields of its own we must not touch.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import (
    command,
    json_document,
    one_error_line,
    pipeline,
    run_cli_subprocess,
    write_config,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ts-0.2.1"
RUN_ID = "2026-12-02T15-31-22-736Z-e8dd38b7"
# What a resume owns: the run's state. Everything else stays value for value.
OWNED = {
    "status",
    "status_detail",
    "completed_at",
    "updated_at",
    "heartbeat_at",
    "summary",
    "metrics_recorded",
    "resume_events",
    "commands",
    "run_summary_path",  # a finished run's summary is written anew (artifacts/summary.md)
}


def _project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / ".runs")
    write_config(
        tmp_path,
        pipeline(
            "ci",
            command("one", "echo one >> out.txt", title="One"),
            command("two", "test -f ok || exit 3", title="Two"),
            command("three", "echo three >> out.txt", title="Three"),
            title="CI",
        ),
    )
    return tmp_path


def _manifest_path(project: Path) -> Path:
    return project / ".runs" / "t1" / "cli" / RUN_ID / "manifest.json"


def _read(path: Path) -> dict[str, Any]:
    data = orjson.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


@pytest.mark.integration
def test_resume_finishes_a_failed_run_the_typescript_tool_wrote(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _read(_manifest_path(project))
    assert not before["resume_token"].startswith("sha256:")  # the tool keeps it plain
    (project / "ok").touch()

    result = run_cli_subprocess(project, "resume", "--run", RUN_ID, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert json_document(result)["status"] == "succeeded"
    # Stage one had succeeded and is not run again; two and three are.
    assert (project / "out.txt").read_text() == "three\n"
    after = _read(_manifest_path(project))
    assert after["status"] == "succeeded"
    assert [c["status"] for c in after["commands"]] == ["succeeded"] * 3
    for key, value in before.items():
        if key not in OWNED:
            assert after[key] == value, key
    first_before, first_after = before["commands"][0], after["commands"][0]
    assert {k: first_after[k] for k in first_before} == first_before
    assert after["resume_events"][-1]["outcome"] == "accepted"


@pytest.mark.integration
def test_refused_resume_of_their_run_changes_nothing_of_theirs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _read(_manifest_path(project))

    result = run_cli_subprocess(project, "resume", "--run", RUN_ID, "--token", "f" * 64)

    assert result.returncode == 2
    assert one_error_line(result).endswith("refused: resume-token-mismatch")
    after = _read(_manifest_path(project))
    assert after["resume_events"][-1]["detail"] == "resume-token-mismatch"
    for key in ("resume_events", "updated_at"):
        after.pop(key)
        before.pop(key)
    assert after == before
    for key in ("plan_target_id", "runtime_mode_requested", "runtime_fallback"):
        assert after[key] == before[key]
        assert after[key] is not None
