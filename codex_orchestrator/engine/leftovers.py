"""The processes a stage leaves behind: found by its session, ended, named.

Each stage's leader starts a session of its own, so every process it starts (a
background job, a daemonised helper that did not call ``setsid`` itself) shares its
session id, which is the leader's pid. The manifest records that id with the leader's
create time. A session id alone could name an unrelated session after the pid is
reused, so a process counts only if it was created no earlier than the leader, and
nothing is touched when a live process holds the leader's pid with another create
time (the pid was reused).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psutil

from codex_orchestrator.engine.procfs import read_small

CREATE_TIME_TOLERANCE = 0.05
GRACE_SECONDS = 2.0
# The session event is the second line of a command's event file.
HEAD_BYTES = 64 * 1024
HEAD_LINES = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class StageSession:
    """A running stage's session, as the manifest records it."""

    sid: int
    pgid: int
    leader_pid: int
    leader_create_time: float

    def to_dict(self) -> dict[str, Any]:
        """As persisted in ``commands[].process_group``."""
        return {
            "sid": self.sid,
            "pgid": self.pgid,
            "leader_pid": self.leader_pid,
            "leader_create_time": self.leader_create_time,
        }

    @classmethod
    def from_dict(cls, data: Any) -> StageSession | None:
        """Tolerant reader: None when absent or malformed."""
        if not isinstance(data, dict):
            return None
        values = [data.get(k) for k in ("sid", "pgid", "leader_pid")]
        created = data.get("leader_create_time")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 1 for v in values):
            return None
        if not isinstance(created, int | float) or isinstance(created, bool):
            return None
        sid, pgid, leader = (int(v) for v in values)  # type: ignore[arg-type]
        return cls(sid=sid, pgid=pgid, leader_pid=leader, leader_create_time=float(created))

    @classmethod
    def of_leader(cls, pid: int) -> StageSession | None:
        """The session a just-started leader heads (None if it is already gone)."""
        try:
            created = psutil.Process(pid).create_time()
            return cls(
                sid=os.getsid(pid), pgid=os.getpgid(pid), leader_pid=pid, leader_create_time=created
            )
        except (psutil.Error, OSError):
            return None


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@functools.cache
def _boot() -> float:
    """The machine's boot time as psutil gives it (read once: it does not change)."""
    return psutil.boot_time()


def process_create_time(pid: int) -> float | None:
    """A process's create time as psutil gives it, read straight from /proc (cheap:
    no psutil.Process to build once per stage); psutil where /proc has no stat."""
    try:
        data = read_small(f"/proc/{pid}/stat")
        fields = data[data.rfind(b")") + 2 :].split()
        return _boot() + int(fields[19]) / _TICKS
    except (OSError, ValueError, IndexError):
        try:
            return psutil.Process(pid).create_time()
        except psutil.Error:
            return None


def members(session: StageSession, exclude: Iterable[int] = ()) -> list[psutil.Process]:
    """The live processes of ``session`` (never a process of a reused pid)."""
    skip = {os.getpid(), *exclude}
    try:
        holder = psutil.Process(session.leader_pid)
        if abs(holder.create_time() - session.leader_create_time) > CREATE_TIME_TOLERANCE:
            return []  # the leader's pid now names another process: hands off
    except psutil.Error:
        pass  # the leader is gone; its session may live on in its children
    found = []
    for process in psutil.process_iter():
        if process.pid in skip:
            continue
        try:
            if os.getsid(process.pid) != session.sid and (os.getpgid(process.pid) != session.pgid):
                continue
            if process.create_time() < session.leader_create_time - CREATE_TIME_TOLERANCE:
                continue
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.Error, OSError):
            continue
        found.append(process)
    return found


def end_session(
    session: StageSession, *, grace: float = GRACE_SECONDS, exclude: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """End every live process of ``session``: SIGTERM, then SIGKILL after ``grace``.

    Returns what was ended: ``[{pid, name, command}]``.
    """
    victims = members(session, exclude)
    ended = []
    for process in victims:
        try:
            ended.append({"pid": process.pid, "name": process.name(), "command": _cmdline(process)})
            process.send_signal(signal.SIGTERM)
        except psutil.Error:
            continue
    if not victims:
        return ended
    _, alive = psutil.wait_procs(victims, timeout=grace)
    for process in alive:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=grace)
    return ended


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())[:200]
    except psutil.Error:
        return ""


def end_orphans(session: StageSession, busy: Iterable[int] = ()) -> list[dict[str, Any]] | None:
    """End what ``session`` left among this runner's own children (it is their subreaper).

    Cheap: reads the runner's children lists, not every process of the machine. Returns
    None when that list cannot be read here (then ``end_session`` scans instead).
    """
    from codex_orchestrator.engine.reaper import own_children

    children = own_children()
    if children is None:
        return None
    skip = set(busy)
    left = []
    for pid in children:
        if pid in skip:
            continue
        try:
            if os.getsid(pid) != session.sid and os.getpgid(pid) != session.pgid:
                continue
        except OSError:
            continue
        left.append(pid)
    if not left:
        return []
    ended = end_session(session, exclude=skip)
    for pid in left:  # they are our children now: reap them
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
    return ended


def recorded_sessions(manifest: Any, run_dir: Path) -> list[tuple[str, StageSession]]:
    """The sessions of a run's stages that were running: ``[(stage id, session)]``.

    The manifest has them once written; the stage's event file has them from the
    moment the leader started (its ``command:session`` event, near the top).
    """
    from codex_orchestrator.model import CommandStatus
    from codex_orchestrator.store.layout import command_file_stem

    found = []
    for record in manifest.commands:
        if record.status is not CommandStatus.RUNNING:
            continue
        session = StageSession.from_dict(dict(record.process_group or {}))
        if session is None:
            log = run_dir / "commands" / f"{command_file_stem(record.index, record.id)}.ndjson"
            session = _session_in_log(log)
        if session is not None:
            found.append((record.id, session))
    return found


def _session_in_log(path: Path) -> StageSession | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    for line in head.split(b"\n")[:HEAD_LINES]:
        if b'"command:session"' not in line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return StageSession.from_dict(event)
    return None


def describe(session: StageSession) -> list[dict[str, Any]]:
    """The live processes of a session, as ``[{pid, name, command}]`` (nothing ended)."""
    described = []
    for process in members(session):
        with contextlib.suppress(psutil.Error):
            described.append(
                {"pid": process.pid, "name": process.name(), "command": _cmdline(process)}
            )
    return described


def end_recorded(manifest: Any, run_dir: Path) -> list[dict[str, Any]]:
    """End what a dead runner's stages left running (each running stage's session),
    before any stage runs again; a pid reused by an unrelated process is never touched.
    """
    ended: list[dict[str, Any]] = []
    for stage_id, session in recorded_sessions(manifest, run_dir):
        ended += [{**process, "stage": stage_id} for process in end_session(session)]
    return ended
