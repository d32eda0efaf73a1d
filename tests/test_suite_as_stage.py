"""The test suite runs as a stage of a run (the diagnostics pipeline's test stage)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.integration
def test_module_fixtures_do_not_follow_the_outer_runs_variables(tmp_path: Path) -> None:
    """A stage gets CODEX_ORCHESTRATOR_ROOT and friends from its runner; a module-scoped
    fixture starting the CLI must not act on that outer repository."""
    outer = tmp_path / "outer"
    outer.mkdir()
    env = {
        **os.environ,
        "CODEX_ORCHESTRATOR_ROOT": str(outer),
        "CODEX_ORCHESTRATOR_RUNS_DIR": str(outer / ".runs"),
        "CODEX_ORCHESTRATOR_TASK_ID": "outer-task",
    }
    target = REPO / "tests" / "engine" / "test_output_capture.py"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            target,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert not (outer / ".runs").exists()
