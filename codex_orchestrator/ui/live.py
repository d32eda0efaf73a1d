"""The interactive live view: stages with their state and the last output lines."""

from __future__ import annotations

import collections
import threading
import time

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from codex_orchestrator.model import CommandRecord, CommandStatus, RunManifest
from codex_orchestrator.ui.status_view import _STYLE

LAST_LINES = 8
REFRESH_PER_SECOND = 8


class LiveObserver:
    """Redraws a table of stages and the newest output lines, at most 8 times a second."""

    wants_output = True

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.manifest: RunManifest | None = None
        self.lines: collections.deque[Text] = collections.deque(maxlen=LAST_LINES)
        # Output arrives on the stages' threads, progress on the driver's.
        self._lock = threading.RLock()
        self.live: Live | None = None
        self._depth = 0
        self._last_draw = 0.0

    def _render(self) -> Group:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("#", "stage", "status", "time"):
            table.add_column(column, no_wrap=True)
        table.add_column("summary", overflow="ellipsis", no_wrap=True, max_width=60)
        manifest = self.manifest
        for record in manifest.commands if manifest else ():
            status = "blocked" if record.blocked_by else str(record.status)
            took = f"{record.duration_ms / 1000:.2f}s" if record.duration_ms is not None else ""
            summary = (record.summary or "").splitlines()[0] if record.summary else ""
            table.add_row(
                str(record.index), record.id, Text(status, _STYLE.get(status, "")), took, summary
            )
        title = Text(f"{manifest.pipeline_id}  {manifest.run_id}" if manifest else "", "bold")
        if not self.lines:
            return Group(title, table)
        return Group(title, table, Text("-" * 20, "dim"), *self.lines)

    def _refresh(self, *, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            due = force or now - self._last_draw >= 1 / REFRESH_PER_SECOND
            if self.live is not None and due:
                self.live.update(self._render(), refresh=True)
                self._last_draw = now

    def _running(self) -> list[str]:
        manifest = self.manifest
        commands = manifest.commands if manifest else ()
        return [c.id for c in commands if c.status is CommandStatus.RUNNING]

    def run_started(self, manifest: RunManifest) -> None:
        """Open the live region (once, for the outermost run)."""
        self._depth += 1
        if self.live is None:
            self.manifest = manifest
            self.live = Live(
                self._render(), console=self.console, auto_refresh=False, transient=False
            )
            self.live.start()

    def stage_started(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Show the stage as running (the last lines are kept while others run)."""
        with self._lock:
            self.manifest = manifest
            if self._running() == [record.id]:
                self.lines.clear()
        self._refresh(force=True)

    def output(self, index: int, stream: str, text: str) -> None:
        """Keep the newest lines; with several stages running, each names its stage."""
        with self._lock:
            running = self._running()
            style = "red" if stream == "stderr" else ""
            line = Text(text, style)
            names = {c.index: c.id for c in self.manifest.commands} if self.manifest else {}
            if len(running) > 1 and index in names:
                line = Text.assemble((f"[{names[index]}] ", "dim"), line)
            self.lines.append(line)
        self._refresh()

    def stage_finished(self, manifest: RunManifest, record: CommandRecord) -> None:
        """Show how the stage ended."""
        with self._lock:
            self.manifest = manifest
        self._refresh(force=True)

    def run_finished(self, manifest: RunManifest) -> None:
        """Close the live region after the outermost run."""
        self._depth -= 1
        if self._depth == 0 and self.live is not None:
            self.manifest = manifest
            self.lines.clear()
            self._refresh(force=True)
            self.live.stop()
            self.live = None
