"""runner.ndjson is the journal: readers are never behind what it proves, kill -9 loses nothing."""

from __future__ import annotations

import os
import signal

import orjson
import pytest

from .helpers import Project, command_stage, manifest_of, wait_until

pytestmark = pytest.mark.integration


def _status(project: Project, run_id: str) -> dict[str, object]:
    result = project.cli("status", "--run", run_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    document: dict[str, object] = orjson.loads(result.stdout)
    return document


def _stage_statuses(document: dict[str, object]) -> list[str]:
    commands = document["commands"]
    assert isinstance(commands, list)
    return [str(c["status"]) for c in commands]


@pytest.mark.slow
def test_kill_9_between_stages_loses_nothing_and_resume_runs_only_the_rest(
    project: Project,
) -> None:
    stages = [command_stage(f"s{n}", f"echo {n} >> ran.txt") for n in range(1, 9)]
    gate = project.root / "gate"
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    project.pipeline(*stages, command_stage("last", wait))
    runner = project.spawn("start", "--format", "json")
    run_dir = runner.run_dir(project)

    wait_until(
        lambda: _stage_statuses(_status(project, run_dir.name))[-1] == "running",
        "the last stage to run (as status reports it)",
    )
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()

    document = _status(project, run_dir.name)
    assert _stage_statuses(document) == ["succeeded"] * 8 + ["running"]
    assert isinstance(manifest_of(run_dir)["journal_offset"], int)
    gate.touch()
    resumed = project.cli("resume", "--run", run_dir.name, "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert (project.root / "ran.txt").read_text().split() == [str(n) for n in range(1, 9)]
    final = manifest_of(run_dir)
    assert final["status"] == "succeeded"
    assert [c["status"] for c in final["commands"]] == ["succeeded"] * 9
