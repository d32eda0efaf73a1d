"""Plain-text progress, as Make and GitHub Actions show it.

A line when a stage starts and one when it ends; in between, each line the command
prints, as it arrives (stdout lines on our stdout, stderr lines on our stderr),
prefixed by the stage id while several stages run side by side. With
``GITHUB_ACTIONS=true`` each stage's lines sit in a ``::group::``. ``quiet`` keeps only
the stage lines. A failed stage always shows its last lines afterwards, read back
from its event file, so nothing has to be kept in memory for it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TextIO

import orjson

from codex_orchestrator.model import CommandRecord, CommandStatus, RunManifest

_MARKS = {
    CommandStatus.SUCCEEDED: "ok  ",
    CommandStatus.FAILED: "FAIL",
    CommandStatus.SKIPPED: "skip",
}


FAILED_TAIL_LINES = 20
OUTPUT_STREAMS = (b'"type":"command:stdout"', b'"type":"command:stderr"')


class TextObserver:
    """Writes stage progress to a text stream (stdout in text mode, stderr in JSON mode)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        quiet: bool = True,
        root: Path | None = None,
        errors: TextIO | None = None,
        github: bool | None = None,
    ) -> None:
        self.stream = stream
        self.errors = errors or stream
        self.wants_output = not quiet
        self.root = root
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github
        self._running: dict[int, str] = {}

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def run_started(self, manifest: RunManifest) -> None:
        """Name the run and where its evidence goes."""
        parent = f" (child of {manifest.parent_run_id})" if manifest.parent_run_id else ""
        self._write(
            f"run {manifest.run_id}: pipeline {manifest.pipeline_id}{parent}, "
            f"{len(manifest.commands)} stage(s) -> {manifest.artifact_root}"
        )

    def stage_started(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Announce a stage."""
        total = len(manifest.commands)
        if record.kind == "subpipeline":
            what = f"subpipeline {record.title}"
        else:
            what = record.command or record.title
        also = [stage for stage in self._running.values() if stage != record.id]
        alongside = f"  (running: {', '.join(also)})" if also else ""
        self._write(f"[{record.index}/{total}] {record.id}: {what}{alongside}")
        if record.kind != "subpipeline":
            self._running[record.index] = record.id
            if self.github and self.wants_output:
                self._write(f"::group::{record.id}")

    def output(self, index: int, stream: str, text: str) -> None:
        """One line the command printed, as it arrives."""
        target = self.errors if stream == "stderr" else self.stream
        prefix = f"{self._running.get(index, index)} | " if len(self._running) > 1 else ""
        target.write(f"{prefix}{text}\n")
        target.flush()

    def stage_finished(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Say how a stage ended."""
        total = len(manifest.commands)
        mark = _MARKS.get(record.status, str(record.status))
        if record.blocked_by:
            mark = "BLOCKED"
        took = ""
        if record.duration_ms is not None and record.status is not CommandStatus.SKIPPED:
            took = f" in {record.duration_ms / 1000:.2f}s"
        summary = f" - {record.summary}" if record.summary else ""
        if self._running.pop(record.index, None) is not None and self.github and self.wants_output:
            self._write("::endgroup::")
        self._write(f"[{record.index}/{total}] {mark} {record.id}{took}{summary}")
        if record.status is CommandStatus.FAILED and record.log_path and self.root is not None:
            self._show_tail(self.root / record.log_path, record.id)

    def _show_tail(self, path: Path, stage_id: str) -> None:
        """The last lines a failed stage printed (both streams, in order)."""
        from codex_orchestrator.store.tail import last_lines

        lines = [
            _output_text(line)
            for line in last_lines(path, FAILED_TAIL_LINES * 4)
            if any(marker in line for marker in OUTPUT_STREAMS)
        ][-FAILED_TAIL_LINES:]
        if not lines:
            return
        self._write(f"--- last {len(lines)} line(s) of {stage_id} ---")
        self.stream.writelines(f"{line}\n" for line in lines)
        self._write(f"--- end of {stage_id} ---")

    def run_finished(self, manifest: RunManifest) -> None:
        """Say how the run ended."""
        self._write(f"run {manifest.run_id}: {manifest.status}")


def render_result(manifest: RunManifest, manifest_path: str, stream: TextIO) -> None:
    """The closing block of ``start``/``exec``/``resume`` in text mode."""
    stream.write(f"status:   {manifest.status}")
    stream.write(f" ({manifest.status_detail})\n" if manifest.status_detail else "\n")
    stream.write(f"run:      {manifest.run_id} (task {manifest.task_id})\n")
    stream.write(f"manifest: {manifest_path}\n")
    stream.write(f"log:      {manifest.log_path}\n")
    if manifest.summary:
        stream.writelines(f"  {line}\n" for line in manifest.summary.splitlines())
    stream.flush()


def _output_text(line: bytes) -> str:
    """The text of one output event line (its exact bytes, shown with replacements)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return ""
    b64 = event.get("data_b64")
    if isinstance(b64, str):
        return base64.b64decode(b64).decode("utf-8", "replace")
    return str(event.get("data", ""))
