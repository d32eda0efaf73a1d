"""Plain-text progress: one line when a stage starts and one when it ends."""

from __future__ import annotations

from typing import TextIO

from codex_orchestrator.model import CommandRecord, CommandStatus, RunManifest

_MARKS = {
    CommandStatus.SUCCEEDED: "ok  ",
    CommandStatus.FAILED: "FAIL",
    CommandStatus.SKIPPED: "skip",
}


class TextObserver:
    """Writes stage progress to a text stream (stdout in text mode, stderr in JSON mode)."""

    wants_output = False

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

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
        running = [c.id for c in manifest.commands if c.status is CommandStatus.RUNNING]
        also = [stage for stage in running if stage != record.id]
        alongside = f"  (running: {', '.join(also)})" if also else ""
        self._write(f"[{record.index}/{total}] {record.id}: {what}{alongside}")

    def output(self, index: int, stream: str, text: str) -> None:
        """Not shown in plain text mode (it is in the logs)."""

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
        self._write(f"[{record.index}/{total}] {mark} {record.id}{took}{summary}")

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
