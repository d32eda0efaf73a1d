"""The console script's entry: start-up frozen for the cycle collector, which then runs."""

from __future__ import annotations

import gc
import subprocess
from pathlib import Path

import pytest
from helpers import start_json

from codex_orchestrator.cli import app, entry


def test_the_cli_runs_with_the_collector_on_and_start_up_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long command (a server, a watch) must still collect cycles it makes; what the
    imports made is frozen, never walked again."""
    seen: list[tuple[bool, int]] = []
    monkeypatch.setattr(app, "main", lambda: seen.append((gc.isenabled(), gc.get_freeze_count())))
    try:
        entry.main()
    finally:
        gc.unfreeze()
    assert len(seen) == 1
    enabled, frozen = seen[0]
    assert enabled
    assert frozen > 0


def test_a_collector_turned_off_by_the_caller_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "main", lambda: None)
    gc.disable()
    try:
        entry.main()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


@pytest.mark.integration
def test_python_m_runs_a_pipeline_through_the_entry(tmp_path: Path) -> None:
    """``python -m codex_orchestrator`` goes through the entry (and so does the console
    script); a run in that process freezes its own state too and still succeeds."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    result, document, _ = start_json(tmp_path, "diagnostics")
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
