"""The keeping benchmark runs end to end (small sizes) and prints its comparison table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_keep.py"


@pytest.mark.slow
def test_bench_keep_prints_keeping_against_cp(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--small-files", "30", "--big-size", "2M", "--repeat", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "keeping / cp -r" in lines[1]
    rows = [line for line in lines if line.startswith(("| small-30 ", "| big-2M "))]
    assert len(rows) == 2
    assert all(row.count(" MB |") == 4 for row in rows)
