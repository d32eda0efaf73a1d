"""Output lines as NDJSON events: split, encoded and decoded without losing a byte."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import ISO_RE, read_ndjson
from hypothesis import given
from hypothesis import strategies as st

from codex_orchestrator.engine.lines import MAX_LINE_BYTES, TAIL_BYTES, LineSplitter, Tail
from codex_orchestrator.store.events import (
    EventLog,
    decode_output_event,
    encode_event,
    encode_output_lines,
    read_events,
)

STAMP = "2025-10-31T22:56:34.431Z"

# Bytes that stress the encoder: newlines, CR, quotes, backslashes, the '","' the fast
# path splits on, NUL, invalid UTF-8 and multi-byte characters (cut or whole).
_TRICKY = [b"\n", b"\r", b'"', b"\\", b'","', b"\x00", b"\xff", b"\xc3", b"\xa9", "é€😀".encode()]
chunks = st.lists(
    st.lists(st.sampled_from(_TRICKY) | st.binary(max_size=12), max_size=8).map(b"".join),
    max_size=8,
)


def _events_for(
    data_chunks: list[bytes], max_line: int, stream: str = "stdout"
) -> list[dict[str, Any]]:
    """Feed chunks through a splitter, encode every run as the runner does, parse the lines."""
    splitter = LineSplitter(max_line)
    encoded = []
    seq = 1
    fed = [(splitter.feed(chunk), splitter.plain) for chunk in data_chunks]
    fed.append((splitter.close(), splitter.plain))
    for runs, plain in fed:
        for pieces, partial in runs:
            # As the runner does: the splitter's verdict spares the encoder its check.
            encoded.append(encode_output_lines(stream, 7, seq, pieces, partial, STAMP, plain))
            seq += len(pieces)
    blob = b"".join(encoded)
    assert blob.endswith(b"\n") or not blob
    return [orjson.loads(line) for line in blob.splitlines()]


@given(chunks, st.integers(min_value=4, max_value=64))
def test_any_bytes_round_trip_exactly(data_chunks: list[bytes], max_line: int) -> None:
    """Split, encoded and decoded, the events give back the exact input bytes."""
    events = _events_for(data_chunks, max_line)
    assert b"".join(decode_output_event(event) for event in events) == b"".join(data_chunks)


@given(chunks, st.integers(min_value=4, max_value=64))
def test_every_event_is_well_formed(data_chunks: list[bytes], max_line: int) -> None:
    """Each line is one event with type, timestamp, index and a seq counting up from 1."""
    events = _events_for(data_chunks, max_line, stream="stderr")
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    for event in events:
        assert event["type"] == "command:stderr"
        assert event["timestamp"] == STAMP
        assert event["index"] == 7
        assert isinstance(event["data"], str)
        assert event.get("partial", False) in (True, False)
        if "data_b64" in event:
            raw = base64.b64decode(event["data_b64"])
            assert len(raw) <= max_line
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        else:
            assert len(event["data"].encode()) <= max_line


@given(st.lists(st.text(max_size=40), max_size=6), st.integers(min_value=4, max_value=16))
def test_valid_utf8_is_never_cut_inside_a_character(lines: list[str], max_line: int) -> None:
    """Long lines are split at character boundaries: no piece needs ``data_b64``."""
    data = "\n".join(lines).encode()
    events = _events_for([data], max_line)
    assert all("data_b64" not in event for event in events)
    assert "".join(event["data"] + ("" if event.get("partial") else "\n") for event in events) == (
        data.decode()
    )


@given(
    st.integers(min_value=1, max_value=3_000_000),
    st.integers(min_value=1, max_value=2_500),
    st.booleans(),
)
def test_seq_numbers_are_exact_across_thousands(first: int, count: int, partial: bool) -> None:
    """Events are byte for byte what a JSON encoder writes, whatever block of a
    thousand the sequence numbers start and end in."""
    pieces = [b"line %d" % n for n in range(count)]
    extra = {"partial": True} if partial else {}
    expected = b"".join(
        orjson.dumps(
            {
                "type": "command:stdout",
                "timestamp": STAMP,
                "index": 2,
                "seq": first + n,
                "data": piece.decode(),
                **extra,
            }
        )
        + b"\n"
        for n, piece in enumerate(pieces)
    )
    assert encode_output_lines("stdout", 2, first, pieces, partial, STAMP, plain=True) == expected
    assert encode_output_lines("stdout", 2, first, pieces, partial, STAMP) == expected


def test_a_line_held_back_between_reads_is_checked_whole() -> None:
    """A quote read before the newline that ends its line still marks the line not plain."""
    splitter = LineSplitter()
    chunks = (b'ok\nsays "hi', b'" there\n', b"clean\n", b"back\\slash")
    seen = [(splitter.feed(chunk), splitter.plain) for chunk in chunks]
    seen.append((splitter.close(), splitter.plain))
    assert seen[1:] == [
        ([([b'says "hi" there'], False)], False),
        ([([b"clean"], False)], True),
        ([], False),
        ([([b"back\\slash"], True)], False),
    ]


def test_a_complete_line_is_not_partial_and_eof_bytes_are() -> None:
    """``partial`` marks exactly the pieces no newline ended."""
    events = _events_for([b"one\ntwo\n", b"tail"], 64)
    assert [(event["data"], event.get("partial", False)) for event in events] == [
        ("one", False),
        ("two", False),
        ("tail", True),
    ]


def test_an_overlong_line_is_split_into_partial_pieces() -> None:
    """A line over the limit comes in full-size partial pieces, the last one not partial."""
    events = _events_for([b"x" * 10 + b"\n"], 4)
    assert [(event["data"], event.get("partial", False)) for event in events] == [
        ("xxxx", True),
        ("xxxx", True),
        ("xx", False),
    ]


def test_the_default_line_limit_is_256_kib() -> None:
    """DESIGN.md's splitting threshold for over-long lines."""
    assert MAX_LINE_BYTES == 256 * 1024
    runs = LineSplitter().feed(b"y" * (MAX_LINE_BYTES + 1) + b"\n")
    assert [(len(piece), partial) for pieces, partial in runs for piece in pieces] == [
        (MAX_LINE_BYTES, True),
        (1, False),
    ]


def test_invalid_utf8_keeps_its_bytes_beside_a_readable_text() -> None:
    """``data`` is readable (replacement characters), ``data_b64`` holds the exact bytes."""
    raw = b"caf\xe9 \xff\xfe"
    (event,) = [orjson.loads(encode_output_lines("stdout", 1, 1, [raw], False, STAMP))]
    assert event["data"] == "caf\ufffd \ufffd\ufffd"
    assert base64.b64decode(event["data_b64"]) == raw
    assert decode_output_event(event) == raw + b"\n"


def test_lines_ending_in_a_quoted_value_and_comma_stay_apart() -> None:
    """Pretty-printed JSON (lines ending in '",') is one valid event per line."""
    pieces = [b"{", b'  "a": "b",', b'  "c": "d",', b'"",', b"}"]
    encoded = encode_output_lines("stdout", 1, 1, pieces, False, STAMP)
    events = [orjson.loads(line) for line in encoded.splitlines()]
    assert [event["data"] for event in events] == [piece.decode() for piece in pieces]
    assert [event["seq"] for event in events] == [1, 2, 3, 4, 5]


def test_crlf_keeps_the_carriage_return() -> None:
    """Only ``\\n`` ends a line; a ``\\r`` before it is data."""
    events = _events_for([b"a\r\nb\r\n"], 64)
    assert [event["data"] for event in events] == ["a\r", "b\r"]


def test_no_output_no_events() -> None:
    """An empty batch encodes to nothing."""
    assert encode_output_lines("stdout", 1, 1, [], False, STAMP) == b""
    assert _events_for([b""], 64) == []


def test_tail_keeps_the_last_bytes_and_says_when_it_cut() -> None:
    """A tail is the stream's last 8 KiB; ``truncated`` once anything before was dropped."""
    tail = Tail()
    assert TAIL_BYTES == 8 * 1024
    tail.feed(b"a" * 100)
    assert (tail.text(), tail.truncated) == ("a" * 100, False)
    stream = b"".join(f"{n:05d}\n".encode() for n in range(3000))
    tail = Tail()
    for start in range(0, len(stream), 1000):
        tail.feed(stream[start : start + 1000])
    assert tail.text() == stream[-TAIL_BYTES:].decode()
    assert tail.truncated


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(1, 64))
def test_tail_is_always_the_stream_end(pieces: list[bytes], size: int) -> None:
    """Whatever the chunking, the tail is the last ``size`` bytes of everything fed."""
    tail = Tail(size)
    for piece in pieces:
        tail.feed(piece)
    stream = b"".join(pieces)
    assert tail.text() == stream[-size:].decode("utf-8", "replace")
    assert tail.truncated == (len(stream) > size)


def test_event_log_writes_command_events_to_both_files(tmp_path: Path) -> None:
    """Run events go to runner.ndjson; command events also to the open command file."""
    runner = tmp_path / "runner.ndjson"
    first = tmp_path / "01-a.ndjson"
    second = tmp_path / "02-b.ndjson"
    log = EventLog(runner)
    log.event("run:start", pipeline_id="p")
    one = log.open_command(first, 1)
    one.event("command:start", id="a", command="echo hi")
    one.write(encode_output_lines("stdout", 1, 1, [b"hi"], False, STAMP))
    one.event("command:end", exit_code=0, signal=None, duration_ms=1, status="succeeded")
    one.close()
    two = log.open_command(second, 2)
    two.event("command:start", id="b", command="true")
    two.close()
    log.event("run:end", status="succeeded")
    log.close()

    everything = read_ndjson(runner)
    assert [event["type"] for event in everything] == [
        "run:start",
        "command:start",
        "command:stdout",
        "command:end",
        "command:start",
        "run:end",
    ]
    assert all(ISO_RE.match(event["timestamp"]) for event in everything)
    assert "index" not in everything[0]
    assert read_ndjson(first) == everything[1:4]
    assert read_ndjson(second) == everything[4:5]
    assert read_events(runner) == everything


def test_large_batches_reach_the_command_file_in_order(tmp_path: Path) -> None:
    """Batches big enough for the background copier still land whole and in order."""
    runner = tmp_path / "runner.ndjson"
    command_file = tmp_path / "01-big.ndjson"
    log = EventLog(runner)
    handle = log.open_command(command_file, 1)
    seq = 1
    expected = b""
    for batch in range(20):
        pieces = [f"{batch}:{n}:".encode() + b"z" * 200 for n in range(400)]
        handle.write(encode_output_lines("stdout", 1, seq, pieces, False, STAMP))
        expected += b"".join(piece + b"\n" for piece in pieces)
        seq += len(pieces)
    log.close()
    events = read_ndjson(command_file)
    assert b"".join(decode_output_event(event) for event in events) == expected
    assert command_file.read_bytes() == runner.read_bytes()


def test_encode_event_is_one_json_line() -> None:
    """A structured event is compact JSON and a newline."""
    line = encode_event({"type": "run:end", "timestamp": STAMP, "status": "failed"})
    assert line == b'{"type":"run:end","timestamp":"' + STAMP.encode() + b'","status":"failed"}\n'


@pytest.mark.parametrize("fragment_size", [1, 100, 200_000])
def test_a_torn_last_line_becomes_a_torn_event_keeping_its_bytes(
    tmp_path: Path, fragment_size: int
) -> None:
    """Reopening a log that ends mid-event: every line is JSON again, no byte is lost."""
    log = tmp_path / "runner.ndjson"
    good = b'{"type":"run:start","timestamp":"2026-01-01T00:00:00.000Z"}\n'
    fragment = (b'{"type":"command:stdout","data":"' + b"x" * fragment_size)[:fragment_size]
    log.write_bytes(good * 3 + fragment)

    events = EventLog(log)
    events.event("run:resume", actor="a", reason="r")
    events.close()

    lines = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert [line["type"] for line in lines] == [
        "run:start",
        "run:start",
        "run:start",
        "log:torn",
        "run:resume",
    ]
    assert base64.b64decode(lines[3]["data_b64"]) == fragment


def test_a_whole_log_is_left_as_it_is(tmp_path: Path) -> None:
    """A log ending in a newline is appended to, not rewritten."""
    log = tmp_path / "runner.ndjson"
    good = b'{"type":"run:start","timestamp":"2026-01-01T00:00:00.000Z"}\n'
    log.write_bytes(good)
    events = EventLog(log)
    events.close()
    assert log.read_bytes() == good
