"""Text mode shows what the commands print, as Make and GitHub Actions do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import command, json_document, pipeline, run_cli_subprocess, write_config

LONG_FAIL = "seq 1 30; echo broken >&2; exit 2"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("greet", "echo hello-out; echo hello-err >&2"),
            command("count", LONG_FAIL),
        ),
    )
    return tmp_path


def _lines(text: str) -> list[str]:
    return text.splitlines()


@pytest.mark.integration
def test_text_mode_shows_each_output_line_between_the_stage_lines(project: Path) -> None:
    result = run_cli_subprocess(project, "start", "p")
    assert result.returncode == 1
    out = _lines(result.stdout)
    start, end = (
        out.index("[1/2] greet: echo hello-out; echo hello-err >&2"),
        next(i for i, line in enumerate(out) if line.startswith("[1/2] ok   greet")),
    )
    assert out[start + 1 : end] == ["hello-out"]
    assert "hello-err" in _lines(result.stderr)  # stderr lines on stderr
    counted = out.index("[2/2] count: " + LONG_FAIL)
    assert out[counted + 1 : counted + 31] == [str(n) for n in range(1, 31)]
    # A failed stage always shows its last 20 lines (both streams, in order).
    tail_at = out.index("--- last 20 line(s) of count ---")
    assert out[tail_at + 1 : tail_at + 21] == [*map(str, range(12, 31)), "broken"]
    assert out[tail_at + 21] == "--- end of count ---"


@pytest.mark.integration
def test_quiet_shows_only_stage_lines_and_the_failed_tail(project: Path) -> None:
    result = run_cli_subprocess(project, "start", "p", "--quiet")
    assert result.returncode == 1
    out = _lines(result.stdout)
    assert "hello-out" not in out
    assert "hello-err" not in result.stderr
    assert "1" not in out[: out.index("--- last 20 line(s) of count ---")]
    assert "broken" in out


@pytest.mark.integration
def test_github_actions_groups_each_stage(project: Path) -> None:
    result = run_cli_subprocess(project, "start", "p", env={"GITHUB_ACTIONS": "true"})
    out = _lines(result.stdout)
    first = out.index("::group::greet")
    assert out[first - 1].startswith("[1/2] greet: ")
    assert out[first + 1 : first + 3] == ["hello-out", "::endgroup::"]
    assert out[first + 3].startswith("[1/2] ok   greet")
    second = out.index("::group::count")
    assert out[second + 31] == "::endgroup::"
    assert out.index("--- last 20 line(s) of count ---") > second + 31  # outside the group


@pytest.mark.integration
def test_json_mode_stdout_stays_one_document(project: Path) -> None:
    result = run_cli_subprocess(project, "start", "p", "--format", "json")
    assert result.returncode == 1
    assert json_document(result)["status"] == "failed"
    assert json.loads(result.stdout)  # nothing but the document
    assert "hello-out" not in _lines(result.stderr)  # output lines stay in the logs
    assert "--- last 20 line(s) of count ---" in result.stderr


def _meet(me: str, other: str) -> str:
    """A stage that prints only while the other stage runs too (each waits for the
    other's mark, so the two overlap whatever the machine's speed)."""
    wait = f"while [ ! -f {other}.{{}} ]; do sleep 0.02; done"
    return (
        f"touch {me}.started; {wait.format('started')}; echo line-from-{me}; "
        f"echo err-from-{me} >&2; touch {me}.said; {wait.format('said')}"
    )


@pytest.mark.integration
def test_stages_side_by_side_prefix_their_lines_with_the_stage_id(tmp_path: Path) -> None:
    """With --jobs 2 two stages of a graph run at once: each line names its stage."""
    write_config(
        tmp_path,
        pipeline(
            "g",
            command("root", "echo alone"),
            command("left", _meet("left", "right"), needs=["root"]),
            command("right", _meet("right", "left"), needs=["root"]),
        ),
    )
    result = run_cli_subprocess(tmp_path, "start", "g", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    out, err = _lines(result.stdout), _lines(result.stderr)
    assert "alone" in out  # one stage at a time: no prefix
    assert "left | line-from-left" in out
    assert "right | line-from-right" in out
    assert "left | err-from-left" in err
    assert "right | err-from-right" in err
