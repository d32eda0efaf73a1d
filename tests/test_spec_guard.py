"""The repository's own spec guard (scripts/spec-guard.py), run as diagnostics runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "spec-guard.py"


def _guard(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "spec-guard.py")],
        capture_output=True,
        text=True,
        check=False,
    )


def _project(tmp_path: Path, readme: str) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "spec-guard.py")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    (tmp_path / ".runs").mkdir()
    (tmp_path / ".runs" / "README.md").write_text("layout\n", encoding="utf-8")
    return tmp_path


@pytest.mark.integration
def test_this_repository_passes_its_guard() -> None:
    """The README documents every command the CLI registers."""
    result = _guard(REPO)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("spec-guard: README.md documents all ")


@pytest.mark.integration
def test_an_undocumented_command_fails_the_guard(tmp_path: Path) -> None:
    """Drop the migrate docs from the README: the guard names the command and fails."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    kept = "\n".join(
        line for line in readme.splitlines() if "migrate" not in line and "Migrat" not in line
    )
    result = _guard(_project(tmp_path, kept))
    assert result.returncode == 1
    assert "README.md does not document `codex-orchestrator migrate`" in result.stdout
