"""A run is locked while a runner owns it: other writers are refused, never interleaved."""

from __future__ import annotations

import pytest

from .helpers import (
    Project,
    command_stage,
    manifest_of,
    one_line_error,
    wait_until,
)

pytestmark = pytest.mark.integration

GATE = "echo $$ >> pids; while [ ! -e go ]; do sleep 0.05; done"


def test_start_with_parent_run_is_refused_while_the_parent_runs(project: Project) -> None:
    project.track_pids(project.root / "pids")
    project.configure(
        {"id": "main", "title": "Main", "stages": [command_stage("gate", GATE)]},
        {"id": "extra", "title": "Extra", "stages": [command_stage("x", "echo x >> ran-extra")]},
    )
    parent = project.spawn("start", "main")
    parent_dir = parent.run_dir(project)
    parent.wait_for_stage(parent_dir, "gate")

    refused = project.cli("start", "extra", "--parent-run", parent_dir.name)

    assert refused.returncode == 2
    assert "locked" in one_line_error(refused.stderr)
    assert project.run_dirs() == [parent_dir]  # no child run was created
    assert not (project.root / "ran-extra").exists()
    (project.root / "go").touch()
    assert parent.wait() == 0, parent.stderr
    assert manifest_of(parent_dir)["child_runs"] == []

    # Once the parent's runner is done, the same request attaches a child.
    attached = project.cli("start", "extra", "--parent-run", parent_dir.name)

    assert attached.returncode == 0, attached.stderr
    (child_dir,) = [d for d in project.run_dirs() if d != parent_dir]
    child = manifest_of(child_dir)
    assert child["parent_run_id"] == parent_dir.name
    assert [c["run_id"] for c in manifest_of(parent_dir)["child_runs"]] == [child_dir.name]


def test_concurrent_children_of_one_parent_never_lose_an_attachment(project: Project) -> None:
    project.configure(
        {"id": "main", "title": "Main", "stages": [command_stage("p", "true")]},
        {"id": "extra", "title": "Extra", "stages": [command_stage("x", "sleep 0.3")]},
    )
    assert project.cli("start", "main").returncode == 0
    (parent_dir,) = project.run_dirs()

    children = [project.spawn("start", "extra", "--parent-run", parent_dir.name) for _ in range(6)]
    codes = [child.wait() for child in children]

    # Each either ran and attached itself, or was refused before creating anything.
    assert set(codes) <= {0, 2}, [c.stderr for c in children]
    assert 0 in codes
    for child, code in zip(children, codes, strict=True):
        if code == 2:
            assert "locked" in one_line_error(child.stderr)
    child_dirs = [d for d in project.run_dirs() if d != parent_dir]
    assert len(child_dirs) == codes.count(0)
    attached = sorted(c["run_id"] for c in manifest_of(parent_dir)["child_runs"])
    assert attached == sorted(d.name for d in child_dirs)
    for child_dir in child_dirs:
        assert manifest_of(child_dir)["parent_run_id"] == parent_dir.name


def test_resume_of_a_parent_is_refused_while_a_child_attaches_to_it(project: Project) -> None:
    project.track_pids(project.root / "pids")
    project.configure(
        {"id": "main", "title": "Main", "stages": [command_stage("p", "exit 1")]},
        {"id": "extra", "title": "Extra", "stages": [command_stage("gate", GATE)]},
    )
    assert project.cli("start", "main").returncode == 1
    (parent_dir,) = project.run_dirs()
    child = project.spawn("start", "extra", "--parent-run", parent_dir.name)
    wait_until(lambda: len(project.run_dirs()) == 2, "the child run")
    child_dir = next(d for d in project.run_dirs() if d != parent_dir)
    child.wait_for_stage(child_dir, "gate")

    refused = project.cli("resume", "--run", parent_dir.name)

    assert refused.returncode == 2
    # The refusal names the process that holds the parent's lock: the child's runner.
    assert f"runner-active:{child.pid}" in one_line_error(refused.stderr)
    (project.root / "go").touch()
    assert child.wait() == 0, child.stderr
    parent = manifest_of(parent_dir)
    assert parent["status"] == "failed"
    assert [c["run_id"] for c in parent["child_runs"]] == [child_dir.name]
    assert [(e["outcome"], e["detail"]) for e in parent["resume_events"]] == [
        ("blocked", f"runner-active:{child.pid}")
    ]
