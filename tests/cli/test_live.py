"""The interactive live view: on a terminal when asked for, never when stdout is not one."""

from __future__ import annotations

import itertools
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import command, pipeline, run_cli_subprocess, write_config


def _run_on_terminal(project: Path, *args: str) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; return its exit code and the screen text."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "30", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    code = proc.wait(timeout=60)
    assert proc.stderr is not None
    proc.stderr.close()
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("first", "echo first-output-line"),
            command("second", "printf 'alpha\\nbeta\\n' && echo $((6 * 7))-on-stderr >&2"),
        ),
    )
    return tmp_path


@pytest.mark.integration
def test_live_view_on_a_terminal_when_asked_for(project: Path) -> None:
    """On a TTY, start --interactive shows the stages table and the newest output lines."""
    code, screen = _run_on_terminal(project, "start", "p", "--interactive")
    assert code == 0
    assert "\x1b[" in screen  # drawn with terminal control sequences
    for text in ("first", "second", "succeeded", "first-output-line", "42-on-stderr"):
        assert text in screen, text
    assert "status:   succeeded" in screen


@pytest.mark.integration
@pytest.mark.parametrize("flags", [(), ("--no-interactive",)])
def test_plain_progress_on_a_terminal_unless_asked_for(
    project: Path, flags: tuple[str, ...]
) -> None:
    """As in the TypeScript tool, the live view stays off unless --interactive/--ui is given."""
    code, screen = _run_on_terminal(project, "start", "p", *flags)
    assert code == 0
    assert "[1/2] first: echo first-output-line" in screen
    assert "\x1b[?25l" not in screen  # the live view hides the cursor; plain text does not


@pytest.mark.integration
def test_interactive_without_a_terminal_falls_back_to_text(project: Path) -> None:
    """--interactive with stdout piped: plain progress lines, no control sequences."""
    result = run_cli_subprocess(project, "start", "p", "--interactive")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout
    assert "[2/2] ok   second" in result.stdout


@pytest.mark.integration
def test_live_view_shows_parallel_stages_running_at_once(tmp_path: Path) -> None:
    """Two stages of a graph run together: both show as running, each line names its stage."""
    meet = (
        "echo {0}-says-hello; touch {0}.up; i=0; while [ ! -e {1}.up ]; do i=$((i+1)); "
        "[ $i -gt 600 ] && exit 1; sleep 0.05; done; sleep 0.5; echo {0}-done"
    )
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("left", meet.format("left", "right")),
            command("right", meet.format("right", "left")),
            command("join", "echo joined", needs=["left", "right"]),
        ),
    )
    code, drawn = _run_on_terminal(tmp_path, "start", "p", "--jobs", "2", "--interactive")
    assert code == 0, drawn
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    lines = [" ".join(line.replace("│", " ").split()) for line in screen.splitlines()]
    both = any(
        a == "1 left running" and b == "2 right running" for a, b in itertools.pairwise(lines)
    )
    assert both, "no frame showed both stages running:\n" + "\n".join(lines[-60:])
    # While both run, each output line is prefixed with its stage.
    assert re.search(r"^\[(left|right)\] (left|right)-(says-hello|done)", screen, re.MULTILINE)
    assert "status:   succeeded" in screen
