"""Reading event logs as they grow, and their last lines."""

from __future__ import annotations

import os
from pathlib import Path

from codex_orchestrator.store.layout import RunsLayout
from codex_orchestrator.store.tail import EventTail, last_lines, within_runs


def test_event_tail_holds_back_a_torn_line(tmp_path: Path) -> None:
    """Whole lines only; a torn last line is read once its newline arrives."""
    log = tmp_path / "runner.ndjson"
    log.write_bytes(b'{"a":1}\n{"b":')
    tail = EventTail(log)
    assert tail.read() == [(8, b'{"a":1}')]
    assert tail.read() == []
    assert tail.remainder() == b'{"b":'
    with log.open("ab") as handle:
        handle.write(b'2}\n{"c":3}\n')
    assert tail.read() == [(16, b'{"b":2}'), (24, b'{"c":3}')]
    assert tail.starts_line(16)
    assert not tail.starts_line(15)


def test_event_tail_rereads_a_repaired_tail(tmp_path: Path) -> None:
    """A resumed runner cuts a torn line and rewrites it: the reader sees the new bytes."""
    log = tmp_path / "runner.ndjson"
    log.write_bytes(b'{"a":1}\n{"tor')
    tail = EventTail(log)
    assert [line for _, line in tail.read()] == [b'{"a":1}']
    with log.open("r+b") as handle:
        handle.truncate(8)
        handle.seek(8)
        handle.write(b'{"type":"log:torn"}\n')
    assert [line for _, line in tail.read()] == [b'{"type":"log:torn"}']


def test_a_missing_file_reads_as_nothing(tmp_path: Path) -> None:
    """A run that has not written its log yet: no lines, no error."""
    tail = EventTail(tmp_path / "absent.ndjson")
    assert tail.read() == []
    assert tail.remainder() == b""
    assert last_lines(tmp_path / "absent.ndjson", 5) == []


def test_last_lines_reads_only_the_end(tmp_path: Path) -> None:
    """The last N whole lines; a line cut by the byte window is dropped, a torn end too."""
    log = tmp_path / "out.ndjson"
    log.write_bytes(b"".join(b"line-%d\n" % i for i in range(1000)) + b"torn")
    assert last_lines(log, 3) == [b"line-997", b"line-998", b"line-999"]
    window = last_lines(log, 1000, max_bytes=30)
    assert window[-1] == b"line-999"
    assert all(line.startswith(b"line-") and len(line) == 8 for line in window)
    assert last_lines(log, 0) == []


def test_within_runs_follows_links(tmp_path: Path) -> None:
    """A path is inside the runs tree only if its real location is."""
    layout = RunsLayout(root=tmp_path, runs_dir=tmp_path / ".runs")
    (tmp_path / ".runs").mkdir()
    (tmp_path / "outside").write_text("x")
    os.symlink(tmp_path / "outside", tmp_path / ".runs" / "link")
    (tmp_path / ".runs" / "inside").write_text("y")
    assert within_runs(layout, tmp_path / ".runs" / "link") is None
    assert within_runs(layout, tmp_path / ".runs" / "inside") is not None
    assert within_runs(layout, tmp_path / ".runs" / ".." / "outside") is None
