"""Sealing a whole run: every kept workspace file, then no plaintext left under ``.runs``.

At the end of every run (succeeded, failed or cancelled) when ``artifacts.seal`` is
configured, and on demand with ``artifacts seal --run ID``: a packed run is unpacked
first; each instance's workspace is sealed file by file (``seal.py``); the index rows
of sealed files are marked ``sealed`` (their plaintext size and SHA-256 stay only with
``keepHashes``); objects no kept file links to any more are removed from the object
store; the run's search rows are deleted with SQLite's secure delete and the full-text
index is merged so no token of a sealed file remains; then the run is collected again.
``output.log`` and the run's evidence are not sealed (the ``.runs`` contract).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.artifacts.instances import JSON_OPTIONS, read_json
from codex_orchestrator.artifacts.recipients import Recipients
from codex_orchestrator.artifacts.runs import RunArtifacts
from codex_orchestrator.artifacts.seal import SEALED_SUFFIX, seal_tree
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model.sealing import SealSettings
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import InstancePaths

STATUS_KEY = "artifacts_status"
ERROR_KEY = "artifacts_seal_error"
SEALED = "sealed"
SEAL_FAILED = "seal-failed"


@dataclass(slots=True, kw_only=True)
class RunSealResult:
    """What sealing a run (and its child runs) did."""

    run_id: str
    sealed: int = 0
    already_sealed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``sealed`` or ``seal-failed``."""
        return SEAL_FAILED if self.failed else SEALED

    @property
    def error(self) -> str | None:
        """One line naming the first failure (and how many there were)."""
        if not self.failed:
            return None
        path, reason = self.failed[0]
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return f"{path}: {reason}{more}"

    def manifest_fields(self) -> dict[str, Any]:
        """``artifacts_status`` (and ``artifacts_seal_error``) for the manifest."""
        return {STATUS_KEY: self.status, ERROR_KEY: self.error}

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``artifacts seal --format json`` prints."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "sealed": self.sealed,
            "already_sealed": self.already_sealed,
            "failed": [{"path": path, "reason": reason} for path, reason in self.failed],
            "error": self.error,
        }


def instances_of(run: RunArtifacts) -> Iterator[InstancePaths]:
    """Every instance directory of a run's tree, children (subpipelines) included."""
    top = run.paths.instances_dir
    if not top.is_dir():
        return
    pending = [run.paths.instance(entry.name) for entry in sorted(top.iterdir()) if entry.is_dir()]
    while pending:
        instance = pending.pop(0)
        yield instance
        nested = instance.dir / "instances"
        if nested.is_dir():
            pending.extend(instance.child(e.name) for e in sorted(nested.iterdir()) if e.is_dir())


def seal_run(run: RunArtifacts, settings: SealSettings) -> RunSealResult:
    """Seal every kept file of a finished run; failures leave their plaintext (0700)."""
    if run.live:
        raise InvalidInput(f"run {run.ref.run_id} is still in progress; it is sealed when it ends")
    result = RunSealResult(run_id=run.ref.run_id)
    recipients = Recipients(settings.recipients)
    packed = run.packed
    if packed:
        from codex_orchestrator.artifacts.pack import extract_pack

        extract_pack(run.paths.pack, run.paths.root)
    for instance in instances_of(run):
        if not instance.workspace.is_dir():
            continue
        _owner_writable(instance.workspace)
        report = seal_tree(instance.workspace, recipients)
        result.sealed += len(report.sealed)
        result.already_sealed += len(report.already_sealed)
        result.failed += [(f"{instance.instance_id}/{p}", why) for p, why in report.failed]
        mark_sealed_rows(instance, keep_hashes=settings.keep_hashes)
    if packed and not result.failed:
        os.unlink(run.paths.pack)  # it holds the plaintext
    run.store.collect_garbage()
    forget_search_rows(run)
    from codex_orchestrator.artifacts.collect import collect

    collect(run)
    return result


def _owner_writable(top: Path) -> None:
    """Kept directories may have lost their write bit; sealing must replace files in them."""
    for folder, _, _ in os.walk(top):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.lstat(folder).st_mode)
            if not os.path.islink(folder) and mode & 0o700 != 0o700:
                os.chmod(folder, mode | 0o700)


def mark_sealed_rows(instance: InstancePaths, *, keep_hashes: bool) -> None:
    """Mark the instance's ``index.json`` rows whose file is now ``<path>.age``."""
    rows = read_json(instance.file_index)
    if not isinstance(rows, list):
        return
    changed = False
    for row in rows:
        if not isinstance(row, dict) or row.get("type", "file") != "file":
            continue
        path = str(row.get("path", ""))
        plain, sealed = instance.workspace / path, instance.workspace / f"{path}{SEALED_SUFFIX}"
        if row.get("sealed") or plain.exists() or not sealed.is_file():
            continue
        row["sealed"] = True
        if not keep_hashes:  # a short secret's hash can be guessed; the size is the .age's
            row["size"] = sealed.stat().st_size
            row["sha256"] = None
        changed = True
    if changed:
        atomic_write(instance.file_index, orjson.dumps(rows, option=JSON_OPTIONS))


def forget_search_rows(run: RunArtifacts) -> None:
    """Delete the run's search rows so that no fragment of them stays in the database file.

    ``secure_delete`` overwrites freed pages with zeros; ``optimize`` merges the
    full-text index so deleted tokens leave its segments; the WAL is then truncated.
    Collecting the run afterwards indexes what is still plaintext (output logs).
    """
    if not run.layout.search_index().exists():
        return
    from codex_orchestrator.artifacts.search import connect

    with connect(run.layout) as db:
        db.execute("PRAGMA secure_delete=ON")
        with db:
            db.execute(
                "INSERT INTO blocks_fts (blocks_fts, rowid, text) "
                "SELECT 'delete', id, text FROM blocks WHERE run_id = ?",
                (run.manifest.run_id,),
            )
            db.execute("DELETE FROM blocks WHERE run_id = ?", (run.manifest.run_id,))
            db.execute("INSERT INTO blocks_fts (blocks_fts) VALUES ('optimize')")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
