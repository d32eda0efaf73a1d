"""Dropping written log pages from the page cache: behind the end, never the data."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from codex_orchestrator.store import pagecache
from codex_orchestrator.store.pagecache import KEEP_CACHED, TRIM_EVERY, CacheTrim

MIB = 1024 * 1024


def test_pages_are_dropped_behind_the_end_and_the_bytes_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Advice covers what was written more than KEEP_CACHED ago, never the newest part;
    the file still holds every byte, as a later read proves."""
    calls: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def advise(fd: int, offset: int, length: int, advice: int) -> None:
        calls.append((offset, length, os.lseek(fd, 0, os.SEEK_CUR)))
        real(fd, offset, length, advice)

    monkeypatch.setattr(pagecache, "_ADVISE", advise)
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"x" * 3 * MIB)  # a resumed file: offsets are the file's, not ours
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    trim = CacheTrim()
    digest = hashlib.sha256(b"x" * 3 * MIB)
    for n in range(40):
        chunk = bytes([n % 256]) * MIB
        os.write(fd, chunk)
        digest.update(chunk)
        trim.wrote(fd, len(chunk))
    os.close(fd)

    assert hashlib.sha256(path.read_bytes()).digest() == digest.digest()
    assert len(calls) == 40 * MIB // TRIM_EVERY
    for offset, length, end in calls:
        assert offset >= 0
        assert offset + length == end - KEEP_CACHED  # never the newest KEEP_CACHED bytes
    covered_up_to = max(offset + length for offset, length, _ in calls)
    assert covered_up_to == 43 * MIB - KEEP_CACHED
    assert calls[0][0] == 0


def test_small_logs_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below TRIM_EVERY bytes nothing is advised: short runs pay nothing."""
    calls: list[int] = []
    monkeypatch.setattr(pagecache, "_ADVISE", lambda *args: calls.append(len(args)))
    fd = os.open(tmp_path / "small", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    trim = CacheTrim()
    for _ in range(10):
        os.write(fd, b"y" * 1024)
        trim.wrote(fd, 1024)
    os.close(fd)
    assert calls == []
