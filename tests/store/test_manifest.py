"""Reading and writing ``manifest.json``: atomic, tolerant, and friendly to other writers."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import orjson
import pytest
from helpers import sample_manifest, validate_manifest

from codex_orchestrator.errors import ManifestUnreadable, RunNotFound
from codex_orchestrator.model import CommandStatus, ResumeEvent
from codex_orchestrator.store.manifest import (
    ManifestWriter,
    read_manifest,
    read_manifest_dict,
    record_resume_event,
    write_manifest,
)


def test_write_then_read_gives_back_the_manifest(tmp_path: Path) -> None:
    """A written manifest reads back equal; the file is indented JSON ending in a newline."""
    path = tmp_path / "manifest.json"
    manifest = sample_manifest(summary="done", extra={"learning": {"alerts": []}})
    write_manifest(path, manifest)
    raw = path.read_bytes()
    assert raw.startswith(b'{\n  "version": 1,\n')
    assert raw.endswith(b"}\n")
    assert read_manifest(path) == manifest
    validate_manifest(orjson.loads(raw))


def test_a_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    """Atomic replacement: only the manifest (and its lock, if any) remain."""
    path = tmp_path / "manifest.json"
    for summary in ("one", "two", "three"):
        write_manifest(path, sample_manifest(summary=summary))
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["manifest.json"]
    assert read_manifest(path).summary == "three"


def test_written_manifest_is_readable_by_others(tmp_path: Path) -> None:
    """Evidence is published: the manifest honours the umask like any file (not 0600)."""
    path = tmp_path / "manifest.json"
    old = os.umask(0o022)
    try:
        write_manifest(path, sample_manifest())
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_manifest_is_run_not_found(tmp_path: Path) -> None:
    """No file: RunNotFound (exit 2 at the CLI)."""
    with pytest.raises(RunNotFound, match="no manifest at"):
        read_manifest_dict(tmp_path / "manifest.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"run_id": "r", "status": "succ', "is not valid JSON"),
        (b"", "is not valid JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b"\xff\xfe", "is not valid JSON"),
    ],
)
def test_unreadable_manifest_is_reported_and_left_alone(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """A truncated or non-object manifest raises ManifestUnreadable and is not touched."""
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestUnreadable, match=message):
        read_manifest(path)
    assert path.read_bytes() == content


def test_writer_forced_update_is_on_disk_at_once(tmp_path: Path) -> None:
    """``force=True`` writes now, stamping ``updated_at``."""
    path = tmp_path / "manifest.json"
    writer = ManifestWriter(path, sample_manifest())
    writer.flush()
    done = dataclasses.replace(writer.manifest.command(1), status=CommandStatus.SUCCEEDED)
    writer.update(writer.manifest.with_command(done), force=True)
    on_disk = read_manifest(path)
    assert on_disk.command(1).status is CommandStatus.SUCCEEDED
    assert on_disk.command(2).status is CommandStatus.PENDING
    assert on_disk.updated_at != "2025-10-31T22:56:34.431Z"


def test_flush_writes_pending_state_once(tmp_path: Path) -> None:
    """A flush writes the latest state; a second flush with nothing new does not rewrite."""
    path = tmp_path / "manifest.json"
    writer = ManifestWriter(path, sample_manifest())
    writer.flush()
    writer.update(writer.manifest.replace(summary="later"))
    writer.flush()
    assert read_manifest(path).summary == "later"
    before = path.stat().st_ino
    writer.flush()
    assert path.stat().st_ino == before


def test_resume_event_from_another_process_survives_the_owner_write(tmp_path: Path) -> None:
    """An event recorded beside the running writer is kept by the writer's next write."""
    path = tmp_path / "manifest.json"
    writer = ManifestWriter(path, sample_manifest())
    writer.flush()
    blocked = ResumeEvent(
        timestamp="2025-10-31T22:57:00.000Z",
        actor="ci",
        reason="retry",
        outcome="blocked",
        detail="runner-active:42",
    )
    record_resume_event(path, blocked)
    writer.update(writer.manifest.replace(summary="still running"), force=True)
    on_disk = read_manifest(path)
    assert on_disk.summary == "still running"
    assert on_disk.resume_events == (blocked,)
    document = read_manifest_dict(path)
    assert document["resume_events"] == [
        {
            "timestamp": "2025-10-31T22:57:00.000Z",
            "actor": "ci",
            "reason": "retry",
            "outcome": "blocked",
            "detail": "runner-active:42",
        }
    ]
    validate_manifest(document)


def test_unknown_fields_of_an_older_manifest_survive_a_rewrite(tmp_path: Path) -> None:
    """Reading and writing a manifest keeps fields we do not know, values unchanged."""
    path = tmp_path / "manifest.json"
    document = sample_manifest().to_dict()
    document["cloud_execution"] = {"status": "ready", "poll_count": 3}
    path.write_bytes(orjson.dumps(document))
    write_manifest(path, read_manifest(path))
    assert read_manifest_dict(path)["cloud_execution"] == {"status": "ready", "poll_count": 3}
