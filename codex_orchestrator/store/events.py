"""``runner.ndjson`` and ``commands/NN-slug.ndjson``: one JSON event a line.

Output lines are the hot path (millions per run), so their events are built from
byte templates instead of dicts, and every batch read from a pipe is written with
one ``os.write`` per file before the next read: a runner killed with SIGKILL loses
no line it had read.
"""

from __future__ import annotations

import base64
import contextlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.errors import StoreError
from codex_orchestrator.model import now_iso
from codex_orchestrator.store.copier import BackgroundCopier
from codex_orchestrator.store.fsutil import write_all
from codex_orchestrator.store.pagecache import CacheTrim

# Bytes that may stand in a JSON string as they are: printable ASCII but '"' and '\\'.
_NEEDS_NO_ESCAPE = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\') + b"\n"


def encode_event(event: Mapping[str, Any]) -> bytes:
    """One event as a JSON line."""
    return orjson.dumps(event) + b"\n"


def is_plain(data: bytes) -> bool:
    """Whether every byte of ``data`` may stand in a JSON string as it is (newlines
    apart, which split it into lines)."""
    return not data.translate(None, _NEEDS_NO_ESCAPE)


# Sequence numbers are written as a block prefix and three low digits from these
# tables: consecutive events share the prefix, so no number is formatted per line.
_SEQ_BLOCK = 1000
_LOW_DIGITS = [str(n).encode() for n in range(_SEQ_BLOCK)]
_LOW_DIGITS_PADDED = [b"%03d" % n for n in range(_SEQ_BLOCK)]
_DATA_KEY = b',"data":"'


def encode_output_lines(
    stream: str,
    index: int,
    first_seq: int,
    pieces: list[bytes],
    partial: bool,
    timestamp: str,
    plain: bool | None = None,
) -> bytes:
    """Events for consecutive output pieces that share one ``partial`` flag.

    A piece that is not valid UTF-8 keeps its exact bytes in ``data_b64``; ``partial``
    marks pieces that no newline ended (an over-long line, or the last bytes at EOF).
    Sequence numbers run from ``first_seq``. ``plain``: the caller already knows
    whether the pieces are all :func:`is_plain` (None: check here).
    """
    if not pieces:
        return b""
    head = b'{"type":"command:' + stream.encode() + b'","timestamp":"' + timestamp.encode()
    head += b'","index":' + str(index).encode() + b',"seq":'
    tail = b',"partial":true}\n' if partial else b"}\n"
    joined = None
    if plain is None:
        joined = b"\n".join(pieces)
        plain = is_plain(joined)
    if plain:
        # Printable ASCII without quotes or backslashes (most build and test output):
        # each line is its own JSON string body as it is.
        escaped = pieces
    else:
        if joined is None:
            joined = b"\n".join(pieces)
        try:
            text = joined.decode("utf-8")
        except UnicodeDecodeError:
            return _encode_slowly(head, tail, first_seq, pieces)
        lines = text.split("\n")
        if '"' in text:
            # A line ending in '",' escapes to '\\",' and the next separator then makes
            # a false '","': with quotes in the data, escape line by line.
            escaped = [encoded[1:-1] for encoded in map(orjson.dumps, lines)]
        else:
            # One orjson call escapes every line: with no quote in the data, every
            # quote in its output is a string delimiter, so '","' is the separator.
            escaped = orjson.dumps(lines)[2:-2].split(b'","')
    # Four parts a line: (tail of the last event +) head + seq prefix, seq low digits,
    # the data key, the data; one join over a list filled by slice assignment, so no
    # Python code runs per line.
    count = len(escaped)
    parts = [_DATA_KEY] * (4 * count + 1)
    parts[3::4] = escaped
    between = b'"' + tail + head
    seq, end, done = first_seq, first_seq + count, 0
    while seq < end:
        block, low = divmod(seq, _SEQ_BLOCK)
        run = min(_SEQ_BLOCK - low, end - seq)
        prefix = str(block).encode() if block else b""
        parts[4 * done : 4 * (done + run) : 4] = [between + prefix] * run
        digits = _LOW_DIGITS_PADDED if block else _LOW_DIGITS
        parts[4 * done + 1 : 4 * (done + run) : 4] = digits[low : low + run]
        if not done:
            parts[0] = head + prefix
        seq += run
        done += run
    parts[-1] = b'"' + tail
    return b"".join(parts)


def _encode_slowly(head: bytes, tail: bytes, first_seq: int, pieces: list[bytes]) -> bytes:
    """Per-piece encoding for batches holding bytes that are not UTF-8."""
    out = []
    for seq, raw in enumerate(pieces, start=first_seq):
        try:
            data = orjson.dumps(raw.decode("utf-8"))
        except UnicodeDecodeError:
            data = orjson.dumps(raw.decode("utf-8", "replace"))
            data += b',"data_b64":"' + base64.b64encode(raw) + b'"'
        out.append(head + str(seq).encode() + b',"data":' + data + tail)
    return b"".join(out)


def decode_output_event(event: Mapping[str, Any]) -> bytes:
    """The exact bytes an output event stands for, newline included unless partial."""
    b64 = event.get("data_b64")
    raw = base64.b64decode(b64) if isinstance(b64, str) else str(event["data"]).encode("utf-8")
    return raw if event.get("partial") else raw + b"\n"


# Below this batch size the second copy is written inline: starting a thread
# costs more than it saves for commands that print little.
BACKGROUND_COPY_BYTES = 64 * 1024


class EventLog:
    """Appends events to ``runner.ndjson``; ``open_command`` gives one command's handle.

    Several commands may stream at once, each through its own :class:`CommandLog`
    from its own thread: every write to ``runner.ndjson`` is one locked append, so
    events of parallel stages interleave whole, each with its ``index``.
    """

    def __init__(self, runner_log: Path) -> None:
        self._runner_fd = _open_log(runner_log)
        self._runner_trim = CacheTrim()
        self._lock = threading.Lock()
        self._open: set[CommandLog] = set()

    def open_command(
        self, path: Path | None, index: int, staged: StagedFile | None = None
    ) -> CommandLog:
        """A handle writing command ``index``'s events here and to its own file at ``path``.

        Without ``path`` the events go to ``runner.ndjson`` only (subpipeline stages).
        ``staged``: an empty file made ahead (``stage_file``), renamed to ``path`` when
        no file is there yet (a resumed stage appends to its earlier file instead).
        """
        fd = None
        if path is not None:
            fd = staged.claim(path) if staged is not None else None
            if fd is None:
                fd = _open_log(path)
        handle = CommandLog(self, fd, index)
        with self._lock:
            self._open.add(handle)
        return handle

    def event(self, event_type: str, **fields: Any) -> None:
        """Write a run event (``runner.ndjson`` only)."""
        body: dict[str, Any] = {"type": event_type, "timestamp": now_iso()}
        body.update(fields)
        self.write(encode_event(body))

    def write(self, data: bytes) -> None:
        """Append encoded events to ``runner.ndjson``; StoreError when the disk refuses."""
        try:
            with self._lock:
                write_all(self._runner_fd, data)
                self._runner_trim.wrote(self._runner_fd, len(data))
        except OSError as exc:
            raise StoreError(f"cannot write run events: {exc.strerror or exc}") from exc

    def offset(self) -> int:
        """How many bytes ``runner.ndjson`` holds now (the journal's end)."""
        return os.fstat(self._runner_fd).st_size

    def forget(self, handle: CommandLog) -> None:
        """Drop a closed handle from the ones ``close`` closes."""
        with self._lock:
            self._open.discard(handle)

    def close(self) -> None:
        """Close every file (command handles still open first)."""
        try:
            for handle in list(self._open):
                handle.close()
        finally:
            os.close(self._runner_fd)


class CommandLog:
    """One command's events: to ``runner.ndjson`` and to ``commands/NN-slug.ndjson``."""

    def __init__(self, log: EventLog, fd: int | None, index: int) -> None:
        self._log = log
        self._fd: int | None = fd
        self.index = index
        self._copier: BackgroundCopier | None = None
        self._trim = CacheTrim()

    def event(self, event_type: str, **fields: Any) -> None:
        """Write a command event (with this command's ``index``) to both files."""
        body: dict[str, Any] = {"type": event_type, "timestamp": now_iso(), "index": self.index}
        body.update(fields)
        self.write(encode_event(body))

    def write(self, data: bytes) -> None:
        """Write encoded events to both files; StoreError when the disk refuses."""
        self._log.write(data)
        fd = self._fd
        if fd is None:
            return
        try:
            if self._copier is None and len(data) >= BACKGROUND_COPY_BYTES:
                self._copier = BackgroundCopier()
            if self._copier is not None:
                self._copier.write(fd, data, self._trim)
            else:
                write_all(fd, data)
                self._trim.wrote(fd, len(data))
        except OSError as exc:
            raise StoreError(f"cannot write command events: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """End the command's file (after its queued writes, if any)."""
        fd, self._fd = self._fd, None
        self._log.forget(self)
        if fd is None:
            return
        copier, self._copier = self._copier, None
        if copier is None:
            os.close(fd)
            return
        copier.close_fd(fd)
        try:
            copier.finish()
        except OSError as exc:
            raise StoreError(f"cannot write command events: {exc.strerror or exc}") from exc


STAGED_SUFFIX = ".staged"


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An empty, open event file made ahead of its command, under a hidden name."""

    path: Path
    fd: int

    def claim(self, target: Path) -> int | None:
        """Rename it to ``target`` and hand over its fd; None (and it is removed) when
        ``target`` exists already or the rename fails."""
        if not os.path.lexists(target):
            try:
                os.rename(self.path, target)
            except OSError:
                pass
            else:
                return self.fd
        self.discard()
        return None

    def discard(self) -> None:
        """Close and remove it (it was never used)."""
        with contextlib.suppress(OSError):
            os.close(self.fd)
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def staged_name(path: Path) -> Path:
    """Where the event file ``path`` is made ahead: a hidden name beside it."""
    return path.with_name(f".{path.name}{STAGED_SUFFIX}")


def stage_file(path: Path) -> StagedFile:
    """Make the event file ``path`` ahead, empty, under its hidden name."""
    staged = staged_name(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC
    return StagedFile(path=staged, fd=os.open(staged, flags, 0o644))


def _open_log(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}") from exc
    try:
        _repair_torn_tail(fd)
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return fd


TORN_EVENT = "log:torn"
_TAIL_CHUNK = 64 * 1024


def _repair_torn_tail(fd: int) -> None:
    """Turn a torn last line into a valid event that keeps its bytes.

    A runner that died mid-write (SIGKILL, full disk) can leave part of an event
    after the last newline. Appending after it would fuse two events into one bad
    line; so the fragment is cut off and re-written, byte for byte in ``data_b64``,
    as a ``log:torn`` event. The file stays valid NDJSON and nothing is lost.
    """
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:
        chunk_start = max(0, start - _TAIL_CHUNK)
        chunk = os.pread(fd, start - chunk_start, chunk_start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            start = chunk_start + newline + 1
            break
        start = chunk_start
    fragment = os.pread(fd, size - start, start)
    event = encode_event(
        {
            "type": TORN_EVENT,
            "timestamp": now_iso(),
            "data_b64": base64.b64encode(fragment).decode(),
        }
    )
    os.ftruncate(fd, start)
    write_all(fd, event)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of an NDJSON file (for readers and tests; not for huge files)."""
    with path.open("rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]
