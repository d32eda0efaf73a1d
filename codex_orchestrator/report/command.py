"""``report``: render one run's report to a file or to stdout."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.errors import ExitCode, InvalidInput
from codex_orchestrator.model import ReportFormat
from codex_orchestrator.report.model import load_report
from codex_orchestrator.report.render import render
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRequest:
    """Which run to report on, in which format, and where to put it."""

    root: Path
    run_id: str
    task: str | None
    report_format: ReportFormat
    out: Path | None


def make_report(request: ReportRequest) -> ExitCode:
    """Render the run's report (RunNotFound / ManifestUnreadable / InvalidInput: exit 2)."""
    layout = RunsLayout.for_root(request.root)
    task = resolve_task_id(request.task) if request.task is not None else None
    ref = locate_run(layout, request.run_id, task)
    data = render(load_report(layout, ref), request.report_format)
    if request.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return ExitCode.OK
    out = request.out
    if out.is_dir():
        raise InvalidInput(f"--out {out}: is a directory")
    if not out.parent.is_dir():
        raise InvalidInput(f"--out {out}: directory {out.parent} does not exist")
    try:
        atomic_write(out, data)
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    return ExitCode.OK
