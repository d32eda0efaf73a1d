"""A command's output, rebuilt from its events, is exactly the bytes it printed."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import RunFiles, command, output_bytes, pipeline, start_json, write_config

pytestmark = pytest.mark.integration

BIG = 300 * 1024  # over the 256 KiB line limit
PY = shlex.quote(sys.executable)

# Each case: a stage command (run by /bin/sh, whose printf knows octal escapes, not \x)
# and the exact stdout and stderr bytes it prints.
CASES: dict[str, tuple[str, bytes, bytes]] = {
    "plain": ("printf 'one\\ntwo\\nthree\\n'", b"one\ntwo\nthree\n", b""),
    "no-trailing-newline": ("printf 'first\\nlast words'", b"first\nlast words", b""),
    "crlf": ("printf 'a\\r\\nb\\r\\n\\r\\n'", b"a\r\nb\r\n\r\n", b""),
    "empty-lines": ("printf '\\n\\n\\nx\\n\\n'", b"\n\n\nx\n\n", b""),
    "invalid-utf8": (
        "printf 'ok \\303\\251\\n\\377\\376 bad\\n\\303\\nend\\200'",
        b"ok \xc3\xa9\n\xff\xfe bad\n\xc3\nend\x80",
        b"",
    ),
    "json-hostile": (
        'printf \'"quoted","x" \\\\ back\\tslash \\001\\000nul\\n\'',
        b'"quoted","x" \\ back\tslash \x01\x00nul\n',
        b"",
    ),
    "pretty-json": (
        'printf \'{\\n  "a": "b",\\n  "c": ["x",\\n    "y"]\\n}\\n\'',
        b'{\n  "a": "b",\n  "c": ["x",\n    "y"]\n}\n',
        b"",
    ),
    "long-line": (
        f"{PY} -c \"import sys; sys.stdout.write('x' * {BIG} + chr(10) + 'after' + chr(10))\"",
        b"x" * BIG + b"\nafter\n",
        b"",
    ),
    "interleaved": (
        "i=0; while [ $i -lt 300 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done",
        "".join(f"out-{n}\n" for n in range(300)).encode(),
        "".join(f"err-{n}\n" for n in range(300)).encode(),
    ),
    "silent": ("true", b"", b""),
    # More short lines in one read than one write of events holds (MAX_EVENTS_PER_WRITE).
    "burst": (
        "seq 1 30000",
        "".join(f"{n}\n" for n in range(1, 30001)).encode(),
        b"",
    ),
}
STEMS = {name: f"{position:02d}-{name}" for position, name in enumerate(CASES, start=1)}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> RunFiles:
    """One run with one stage per case."""
    project = tmp_path_factory.mktemp("capture")
    stages = [command(name, shell) for name, (shell, _, _) in CASES.items()]
    write_config(project, pipeline("capture", *stages))
    result, document, run = start_json(project)
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
    return run


def _command_events(run: RunFiles, name: str) -> list[dict[str, Any]]:
    return run.command_events(STEMS[name])


@pytest.mark.parametrize("name", list(CASES))
def test_stdout_and_stderr_are_rebuilt_exactly(captured: RunFiles, name: str) -> None:
    """Decoding the command's events gives back each stream's exact bytes."""
    _, stdout, stderr = CASES[name]
    events = _command_events(captured, name)
    assert output_bytes(events, "stdout") == stdout
    assert output_bytes(events, "stderr") == stderr


@pytest.mark.parametrize("name", list(CASES))
def test_runner_log_holds_the_same_lines(captured: RunFiles, name: str) -> None:
    """runner.ndjson has every output line too (the command file is its copy)."""
    index = list(CASES).index(name) + 1
    events = [event for event in captured.events() if event.get("index") == index]
    assert events == _command_events(captured, name)


def test_no_trailing_newline_is_flagged_partial(captured: RunFiles) -> None:
    """The last bytes, which no newline ended, come as one partial event."""
    events = [e for e in _command_events(captured, "no-trailing-newline") if "seq" in e]
    assert [(event["data"], event.get("partial", False)) for event in events] == [
        ("first", False),
        ("last words", True),
    ]


def test_carriage_returns_and_empty_lines_are_data(captured: RunFiles) -> None:
    """A CR before the newline stays in the line; empty lines are events of their own."""
    crlf = [e["data"] for e in _command_events(captured, "crlf") if "seq" in e]
    assert crlf == ["a\r", "b\r", "\r"]
    empty = [e["data"] for e in _command_events(captured, "empty-lines") if "seq" in e]
    assert empty == ["", "", "", "x", ""]


def test_invalid_utf8_lines_keep_their_bytes(captured: RunFiles) -> None:
    """Lines that are not UTF-8 carry ``data_b64``; valid lines do not."""
    events = [e for e in _command_events(captured, "invalid-utf8") if "seq" in e]
    assert [("data_b64" in event) for event in events] == [False, True, True, True]
    assert events[0]["data"] == "ok é"
    assert events[1]["data"] == "\ufffd\ufffd bad"


def test_overlong_line_is_split_into_partial_pieces(captured: RunFiles) -> None:
    """A 300 KiB line: a 256 KiB partial piece, then the rest ending the line."""
    events = [e for e in _command_events(captured, "long-line") if "seq" in e]
    shape = [(len(event["data"]), event.get("partial", False)) for event in events]
    assert shape == [(256 * 1024, True), (BIG - 256 * 1024, False), (5, False)]


def test_seq_counts_up_across_both_streams(captured: RunFiles) -> None:
    """Interleaved output: one seq per line, 1..n in file order, whatever the stream."""
    events = [e for e in _command_events(captured, "interleaved") if "seq" in e]
    assert len(events) == 600
    assert [event["seq"] for event in events] == list(range(1, 601))
    assert {event["type"] for event in events} == {"command:stdout", "command:stderr"}


def test_a_burst_of_short_lines_keeps_one_event_a_line_in_order(captured: RunFiles) -> None:
    """Thousands of lines per read are written in slices: seq stays 1..n in both files."""
    events = [e for e in _command_events(captured, "burst") if "seq" in e]
    assert [event["seq"] for event in events] == list(range(1, 30001))
    assert [event["data"] for event in events] == [str(n) for n in range(1, 30001)]
    index = events[0]["index"]
    in_runner = [e for e in captured.events() if e.get("index") == index and "seq" in e]
    assert in_runner == events


def test_a_silent_command_has_only_start_and_end(captured: RunFiles) -> None:
    """No output, no output events."""
    events = _command_events(captured, "silent")
    kinds = [event["type"] for event in events]
    assert kinds == ["command:start", "command:session", "command:end"]


def test_background_output_after_exit_is_kept(tmp_path: Path) -> None:
    """A background job printing just after the command exits is still captured."""
    write_config(
        tmp_path,
        pipeline("bg", command("bg", "(sleep 0.2; echo late) & echo early")),
    )
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert output_bytes(run.command_events("01-bg"), "stdout") == b"early\nlate\n"
