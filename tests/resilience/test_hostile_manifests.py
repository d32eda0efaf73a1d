"""A manifest that is truncated or not JSON: exit 2, one line, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from .helpers import Project, command_stage, manifest_of, one_line_error

pytestmark = pytest.mark.integration


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def failed_run(project: Project) -> Path:
    """A failed run: one that ``resume`` would otherwise re-run."""
    project.pipeline(command_stage("flaky", "echo x >> ran; exit 1"))
    assert project.cli("start").returncode == 1
    return project.only_run()


# What replaces a good manifest; None stands for its first half (a torn write).
CORRUPTIONS: dict[str, bytes | None] = {
    "truncated": None,
    "empty": b"",
    "not-json": b"this is not json\n",
    "json-array": b"[1, 2, 3]\n",
    "json-null": b"null\n",
    "invalid-utf8": b'{"run_id": "\xff\xfe"}',
    "nul-bytes": b"\x00" * 64,
}


COMMANDS = {
    "status-json": ("status", "--run", "{run}", "--format", "json"),
    "status-text": ("status", "--run", "{run}"),
    "status-latest": ("status", "--latest"),
    "status-watch": ("status", "--latest", "--watch", "--interval", "0.1"),
    "resume": ("resume", "--run", "{run}"),
    "resume-json": ("resume", "--run", "{run}", "--format", "json"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_an_unreadable_manifest_is_reported_in_one_line_and_left_alone(
    project: Project, corruption: str
) -> None:
    run_dir = failed_run(project)
    manifest = run_dir / "manifest.json"
    good = manifest.read_bytes()
    replacement = CORRUPTIONS[corruption]
    manifest.write_bytes(good[: len(good) // 2] if replacement is None else replacement)
    before = snapshot(project.root / ".runs")

    for name, command in COMMANDS.items():
        result = project.cli(*(arg.format(run=run_dir.name) for arg in command))

        assert result.returncode == 2, (name, result.stdout, result.stderr)
        line = one_line_error(result.stderr)
        assert "manifest.json" in line, name
        assert snapshot(project.root / ".runs") == before, name
        if "json" in command:
            assert result.stdout == b"", name  # no half document on stdout
    assert (project.root / "ran").read_text() == "x\n"  # nothing was re-run


@pytest.mark.parametrize(
    "values",
    [
        {"runner_pid": -1},
        {"runner_pid": 0},
        {"runner_pid": 2**62},
        {"runner_pid": "not-a-pid", "runner_create_time": "later"},
        {"runner_create_time": -1e300},
        {"heartbeat_at": "not a time", "started_at": 12},
        {"commands": "not-a-list", "resume_events": {"a": 1}},
    ],
    ids=["negative-pid", "pid-zero", "huge-pid", "pid-string", "odd-time", "bad-times", "shapes"],
)
def test_hostile_values_in_a_manifest_do_not_crash_status_or_resume(
    project: Project, values: dict[str, Any]
) -> None:
    project.pipeline(command_stage("work", "true"))
    assert project.cli("start").returncode == 0
    run_dir = project.only_run()
    data = manifest_of(run_dir)
    data.update(status="in_progress", **values)
    (run_dir / "manifest.json").write_bytes(orjson.dumps(data))
    before = snapshot(project.root / ".runs")

    result = project.cli("status", "--run", run_dir.name, "--format", "json")

    assert b"Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 0:
        activity = orjson.loads(result.stdout)["activity"]
        assert activity["runner_alive"] is False
        assert activity["lost"] is True
    else:
        one_line_error(result.stderr)
    assert snapshot(project.root / ".runs") == before

    resumed = project.cli("resume", "--run", run_dir.name)

    assert b"Traceback" not in resumed.stderr, resumed.stderr
    assert b"internal error" not in resumed.stderr, resumed.stderr
    assert resumed.returncode in (0, 1, 2), resumed.stderr
