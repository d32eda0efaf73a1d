"""Every help text shows option values in one style: NAME in capitals, or choices a|b."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import run_cli_subprocess

COMMANDS = [
    ("start",),
    ("plan",),
    ("exec",),
    ("status",),
    ("logs",),
    ("runs",),
    ("resume",),
    ("metrics", "summary"),
    ("migrate",),
]
# "  --task ID   Task id ..." -> "ID"; flags have no metavar.
OPTION_LINE = re.compile(r"^\s+(?:-\w, )?--[\w-]+ (?!/)(\S+)")
STYLE = re.compile(r"^(?:[A-Z][A-Z0-9_]*|[a-z0-9_-]+(?:\|[a-z0-9_-]+)+)$")


@pytest.mark.integration
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_one_metavar_style(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run_cli_subprocess(tmp_path, *command, "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    # A flag's help starts after two or more spaces; a value's name after one.
    metavars = [
        match.group(1) for line in result.stdout.splitlines() if (match := OPTION_LINE.match(line))
    ]
    assert metavars, result.stdout
    assert all(STYLE.match(m) for m in metavars), metavars
    assert not re.search(r"--[\w-]+ <", result.stdout)
