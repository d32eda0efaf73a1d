"""``resume``: what it re-runs, when it refuses, and what it records."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest

from .helpers import (
    Project,
    command_stage,
    manifest_of,
    one_line_error,
    run_events,
    stage_record,
    stage_status,
    wait_until,
)

pytestmark = pytest.mark.integration


def ran(project: Project, name: str) -> int:
    """How many times a stage appended to its ``ran-<name>`` counter file."""
    path = project.root / f"ran-{name}"
    return len(path.read_text().splitlines()) if path.exists() else 0


def counted(name: str, then: str = "true") -> str:
    """A command that counts its runs, then does ``then``."""
    return f"echo x >> ran-{name}; {then}"


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Rewrite a manifest by hand, as an operator (or a crash) might leave it."""
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def failed_run(project: Project) -> Path:
    """A finished run whose stage ``flaky`` failed and ``last`` never ran."""
    project.pipeline(
        command_stage("ok", counted("ok")),
        command_stage("soft", counted("soft", "exit 3"), allowFailure=True),
        command_stage("flaky", counted("flaky", "exit 1")),
        command_stage("last", counted("last")),
    )
    result = project.cli("start")
    assert result.returncode == 1, result.stderr
    run_dir = project.only_run()
    manifest = manifest_of(run_dir)
    assert [c["status"] for c in manifest["commands"]] == [
        "succeeded",
        "skipped",
        "failed",
        "pending",
    ]
    return run_dir


def blocked_events(run_dir: Path) -> list[str]:
    """The ``detail`` of every blocked resume event."""
    return [
        str(e["detail"]) for e in manifest_of(run_dir)["resume_events"] if e["outcome"] == "blocked"
    ]


def test_resume_reruns_only_unfinished_stages_with_the_current_command(
    project: Project,
) -> None:
    run_dir = failed_run(project)
    fixed = counted("flaky", "echo fixed")
    project.pipeline(
        command_stage("ok", counted("ok")),
        command_stage("soft", counted("soft", "exit 3"), allowFailure=True),
        command_stage("flaky", fixed),
        command_stage("last", counted("last")),
    )

    result = project.cli("resume", "--run", run_dir.name, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["status"] == "succeeded"
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "succeeded"
    assert (ran(project, "ok"), ran(project, "soft"), ran(project, "flaky")) == (1, 1, 2)
    assert ran(project, "last") == 1
    assert stage_status(manifest, "soft") == "skipped"
    flaky = stage_record(manifest, "flaky")
    assert flaky["status"] == "succeeded"
    assert flaky["command"] == fixed
    starts = [e for e in run_events(run_dir) if e["type"] == "command:start"]
    assert [e["id"] for e in starts] == ["ok", "soft", "flaky", "flaky", "last"]
    assert starts[3]["command"] == fixed


def test_resume_of_a_parent_resumes_its_child_run_in_place(project: Project) -> None:
    project.configure(
        {
            "id": "main",
            "title": "Main",
            "stages": [
                command_stage("pre", counted("pre")),
                {"kind": "subpipeline", "id": "sub", "title": "Sub", "pipeline": "inner"},
                command_stage("post", counted("post")),
            ],
        },
        {
            "id": "inner",
            "title": "Inner",
            "stages": [
                command_stage("a", counted("a")),
                command_stage("b", counted("b", "test -e fixed")),
            ],
        },
    )
    assert project.cli("start", "main").returncode == 1
    dirs = project.run_dirs()
    assert len(dirs) == 2
    parent_dir = next(d for d in dirs if manifest_of(d)["parent_run_id"] is None)
    child_dir = next(d for d in dirs if d != parent_dir)
    assert manifest_of(child_dir)["status"] == "failed"
    (project.root / "fixed").touch()

    result = project.cli("resume", "--run", parent_dir.name)

    assert result.returncode == 0, result.stderr
    assert project.run_dirs() == dirs  # the child was resumed, not started afresh
    parent = manifest_of(parent_dir)
    child = manifest_of(child_dir)
    assert parent["status"] == "succeeded"
    assert child["status"] == "succeeded"
    assert stage_record(parent, "sub")["sub_run_id"] == child_dir.name
    assert [(c["run_id"], c["status"]) for c in parent["child_runs"]] == [
        (child_dir.name, "succeeded")
    ]
    assert [e["outcome"] for e in child["resume_events"]] == ["accepted"]
    assert [(ran(project, n)) for n in ("pre", "a", "b", "post")] == [1, 1, 2, 1]
    assert sorted((m["run_id"], m["status"]) for m in project.metrics()) == sorted(
        [
            (child_dir.name, "failed"),
            (parent_dir.name, "failed"),
            (child_dir.name, "succeeded"),
            (parent_dir.name, "succeeded"),
        ]
    )


def test_the_token_file_is_the_default_and_only_its_hash_is_in_the_manifest(
    project: Project,
) -> None:
    run_dir = failed_run(project)
    token = (run_dir / ".resume-token").read_text().strip()
    assert len(token) == 64
    raw = (run_dir / "manifest.json").read_text()
    assert token not in raw
    assert manifest_of(run_dir)["resume_token"] == (
        "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    )
    (run_dir / ".resume-token").unlink()

    without = project.cli("resume", "--run", run_dir.name)

    assert without.returncode == 2
    assert "resume-token-mismatch" in one_line_error(without.stderr)
    assert ran(project, "flaky") == 1
    project.pipeline(
        command_stage("ok", counted("ok")),
        command_stage("soft", counted("soft", "exit 3"), allowFailure=True),
        command_stage("flaky", counted("flaky")),
        command_stage("last", counted("last")),
    )

    given = project.cli("resume", "--run", run_dir.name, "--token", token)

    assert given.returncode == 0, given.stderr
    outcomes = [(e["outcome"], e["detail"]) for e in manifest_of(run_dir)["resume_events"]]
    assert outcomes == [("blocked", "resume-token-mismatch"), ("accepted", None)]


def test_a_wrong_token_is_refused_and_recorded(project: Project) -> None:
    run_dir = failed_run(project)
    before_events = len(run_events(run_dir))

    result = project.cli(
        "resume", "--run", run_dir.name, "--token", "0" * 64, "--actor", "mallory", "--reason", "x"
    )

    assert result.returncode == 2
    assert "resume-token-mismatch" in one_line_error(result.stderr)
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "failed"
    (event,) = manifest["resume_events"]
    assert event["outcome"] == "blocked"
    assert event["detail"] == "resume-token-mismatch"
    assert (event["actor"], event["reason"]) == ("mallory", "x")
    assert event["timestamp"]
    assert ran(project, "flaky") == 1
    assert len(run_events(run_dir)) == before_events  # no run:resume, nothing re-run
    assert len(project.metrics()) == 1


def test_a_succeeded_run_is_not_resumed(project: Project) -> None:
    project.pipeline(command_stage("ok", counted("ok")))
    assert project.cli("start").returncode == 0
    run_dir = project.only_run()

    result = project.cli("resume", "--run", run_dir.name)

    assert result.returncode == 2
    assert "terminal-status:succeeded" in one_line_error(result.stderr)
    assert blocked_events(run_dir) == ["terminal-status:succeeded"]
    assert ran(project, "ok") == 1
    assert len(project.metrics()) == 1


def test_resume_while_the_runner_works_is_refused_and_kept_by_the_runner(
    project: Project,
) -> None:
    project.track_pids(project.root / "pids")
    gate = "echo $$ >> pids; echo x >> ran-gate; while [ ! -e go ]; do sleep 0.05; done"
    project.pipeline(command_stage("gate", gate))
    runner = project.spawn("start")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "gate")

    result = project.cli("resume", "--run", run_dir.name, "--actor", "eager")

    assert result.returncode == 2
    assert f"runner-active:{runner.pid}" in one_line_error(result.stderr)
    (project.root / "go").touch()
    assert runner.wait() == 0, runner.stderr
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "succeeded"
    # The runner rewrote the manifest after the refusal and kept the refusal's record.
    assert blocked_events(run_dir) == [f"runner-active:{runner.pid}"]
    assert manifest["resume_events"][0]["actor"] == "eager"
    assert ran(project, "gate") == 1


@pytest.mark.parametrize(
    ("create_time_offset", "alive"),
    [(-1000.0, False), (0.0, True)],
    ids=["reused-pid", "same-process"],
)
def test_liveness_is_pid_and_create_time(
    project: Project, create_time_offset: float, alive: bool
) -> None:
    run_dir = failed_run(project)
    me = psutil.Process()
    manifest = manifest_of(run_dir)
    # As after a crash: in progress on paper, naming a pid that exists (this test).
    manifest.update(
        status="in_progress",
        completed_at=None,
        runner_pid=me.pid,
        runner_create_time=me.create_time() + create_time_offset,
    )
    write_manifest(run_dir, manifest)

    status = project.cli("status", "--run", run_dir.name, "--format", "json")

    assert status.returncode == 0, status.stderr
    activity = orjson.loads(status.stdout)["activity"]
    assert activity["runner_alive"] is alive
    assert activity["lost"] is not alive

    resumed = project.cli("resume", "--run", run_dir.name)

    if alive:
        assert resumed.returncode == 2
        assert f"runner-active:{me.pid}" in one_line_error(resumed.stderr)
        assert blocked_events(run_dir) == [f"runner-active:{me.pid}"]
        assert ran(project, "flaky") == 1
    else:
        assert resumed.returncode == 1, resumed.stderr  # flaky still fails, but it ran
        assert ran(project, "flaky") == 2
        assert [e["outcome"] for e in manifest_of(run_dir)["resume_events"]] == ["accepted"]
        assert manifest_of(run_dir)["runner_pid"] != me.pid


def test_a_resume_is_refused_while_another_resume_runs_the_run(project: Project) -> None:
    project.track_pids(project.root / "pids")
    gate = (
        "echo $$ >> pids; echo x >> ran-gate; test -e first-done || exit 1; "
        "while [ ! -e go ]; do sleep 0.05; done"
    )
    project.pipeline(command_stage("gate", gate))
    assert project.cli("start").returncode == 1
    run_dir = project.only_run()
    (project.root / "first-done").touch()
    first = project.spawn("resume", "--run", run_dir.name)
    first.wait_for_stage(run_dir, "gate")
    wait_until(lambda: ran(project, "gate") == 2, "the resumed stage to start")

    second = project.cli("resume", "--run", run_dir.name)

    assert second.returncode == 2
    assert f"runner-active:{first.pid}" in one_line_error(second.stderr)
    (project.root / "go").touch()
    assert first.wait() == 0, first.stderr
    assert ran(project, "gate") == 2
    outcomes = [(e["outcome"], e["detail"]) for e in manifest_of(run_dir)["resume_events"]]
    assert outcomes == [("accepted", None), ("blocked", f"runner-active:{first.pid}")]


def test_simultaneous_resumes_run_the_stage_once_and_name_the_live_runner(
    project: Project,
) -> None:
    project.track_pids(project.root / "pids")
    gate = (
        "echo $$ >> pids; echo x >> ran-gate; test -e first-done || exit 1; "
        "while [ ! -e go ]; do sleep 0.05; done"
    )
    project.pipeline(command_stage("gate", gate))
    assert project.cli("start").returncode == 1
    run_dir = project.only_run()
    first_pid = manifest_of(run_dir)["runner_pid"]
    (project.root / "first-done").touch()

    resumers = [project.spawn("resume", "--run", run_dir.name) for _ in range(4)]
    # The one that won holds the run until told to finish; the others give up meanwhile.
    wait_until(lambda: sum(r.proc.poll() is not None for r in resumers) == 3, "three refusals")
    (project.root / "go").touch()
    (winner,) = [r for r in resumers if r.proc.poll() is None]
    assert winner.wait() == 0, winner.stderr

    losers = [r for r in resumers if r is not winner]
    assert [r.proc.returncode for r in losers] == [2, 2, 2]
    for loser in losers:
        assert f"runner-active:{winner.pid}" in one_line_error(loser.stderr)
    assert ran(project, "gate") == 2
    manifest = manifest_of(run_dir)
    assert manifest["status"] == "succeeded"
    details = sorted(str(e["detail"]) for e in manifest["resume_events"])
    # Never the pid of the runner that ended before the resumes began.
    assert f"runner-active:{first_pid}" not in details
    assert details == ["None", *[f"runner-active:{winner.pid}"] * 3]
    assert [m["status"] for m in project.metrics()] == ["failed", "succeeded"]


def test_a_stage_to_rerun_with_no_command_is_refused_not_guessed(project: Project) -> None:
    """A failed stage the config no longer has and whose record has no command: exit 2."""
    run_dir = failed_run(project)
    manifest = manifest_of(run_dir)
    for record in manifest["commands"]:
        if record["id"] == "flaky":
            record["command"] = None
    write_manifest(run_dir, manifest)
    project.pipeline(command_stage("other", counted("other")))

    result = project.cli("resume", "--run", run_dir.name)

    assert result.returncode == 2
    assert "stage-without-command:flaky" in one_line_error(result.stderr)
    assert blocked_events(run_dir) == ["stage-without-command:flaky"]
    assert ran(project, "flaky") == 1
    assert ran(project, "other") == 0
    assert stage_status(manifest_of(run_dir), "flaky") == "failed"
