"""Heartbeats while a long stage runs: .heartbeat and heartbeat_at move every 10 s."""

from __future__ import annotations

import pytest

from codex_orchestrator.model import parse_iso

from .helpers import Project, command_stage, manifest_of, wait_until


@pytest.mark.slow
@pytest.mark.integration
def test_heartbeat_is_rewritten_while_a_stage_runs(project: Project) -> None:
    """A silent 14-second stage: the heartbeat moves on at least once before it ends."""
    project.pipeline(command_stage("quiet", "sleep 14"))
    runner = project.spawn("start", "main")
    run_dir = runner.run_dir(project)
    runner.wait_for_stage(run_dir, "quiet")
    first = (run_dir / ".heartbeat").read_text()

    later = wait_until(
        lambda: (text := (run_dir / ".heartbeat").read_text()) != first and text,
        "a second heartbeat",
        timeout=30,
    )

    assert later.endswith("\n")
    first_at, later_at = parse_iso(first.strip()), parse_iso(later.strip())
    assert first_at is not None
    assert later_at is not None
    assert 9 <= (later_at - first_at).total_seconds() <= 25
    # The manifest carries it too, while the stage is still running.
    manifest = wait_until(
        lambda: (m := manifest_of(run_dir))["heartbeat_at"] == later.strip() and m,
        "heartbeat_at in the manifest",
        timeout=5,
    )
    assert [c["status"] for c in manifest["commands"]] == ["running"]
    assert runner.wait() == 0, runner.stderr
