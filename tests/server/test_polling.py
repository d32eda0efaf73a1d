"""The polled status cache follows the run's journal, not only its manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_orchestrator.server import polling
from codex_orchestrator.server.polling import StatusCache, files_key


def test_a_journal_event_makes_the_cached_document_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers merge the journal's events newer than the manifest, so an event appended
    with the manifest unchanged must not be answered from the cache once it is looked
    at again (after RECHECK_SECONDS, well before the once-a-second rebuild)."""
    clock = [100.0]
    monkeypatch.setattr("codex_orchestrator.server.polling.time.monotonic", lambda: clock[0])
    manifest, journal = tmp_path / "manifest.json", tmp_path / "runner.ndjson"
    manifest.write_bytes(b"{}")
    journal.write_bytes(b'{"type":"run:start"}\n')
    cache = StatusCache()
    files = (manifest, journal)
    cache.put("r", files, files_key(files), b"running")
    clock[0] += polling.RECHECK_SECONDS * 2
    assert cache.get("r") == b"running"  # nothing changed: still served
    with journal.open("ab") as handle:
        handle.write(b'{"type":"manifest:command"}\n')
    clock[0] += polling.RECHECK_SECONDS * 2
    assert clock[0] - 100.0 < polling.STATUS_REUSE_SECONDS
    assert cache.get("r") is None
