"""A ``.runs`` path that cannot be used is an input error naming it (exit 2), never exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import command, one_error_line, pipeline, run_cli_subprocess, write_config

COMMANDS = [
    ("start", "p"),
    ("runs",),
    ("runs", "--all-tasks"),
    ("status", "--latest"),
    ("migrate",),
    ("metrics", "summary"),
]


@pytest.mark.integration
@pytest.mark.parametrize("args", COMMANDS)
@pytest.mark.parametrize("in_the_way", [".runs", ".runs/0101/cli"])
def test_a_file_where_a_runs_directory_should_be(
    tmp_path: Path, args: tuple[str, ...], in_the_way: str
) -> None:
    write_config(tmp_path, pipeline("p", command("a", "true")))
    blocker = tmp_path / in_the_way
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"not a directory")

    result = run_cli_subprocess(tmp_path, *args)

    if args in (("runs", "--all-tasks"), ("migrate",)) and in_the_way != ".runs":
        # A task whose cli/ is not a directory has no runs to list or to move.
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    message = one_error_line(result)
    assert "Traceback" not in result.stderr
    named = str(blocker) if args[0] != "metrics" else ".runs/0101/metrics.json"
    assert named in message or str(blocker.parent) in message, message
    assert blocker.read_bytes() == b"not a directory"
