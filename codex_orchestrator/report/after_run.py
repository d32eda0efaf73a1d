"""Reports at the end of a run: config ``reports`` beside the manifest, and the step summary.

Called once when a top-level run ends. A report that cannot be written is a warning
on stderr, never a failed or damaged run: the run's evidence is already on disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from codex_orchestrator.model import ReportFormat
from codex_orchestrator.store.catalog import RunRef
from codex_orchestrator.store.layout import RunPaths, RunsLayout

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def write_run_reports(layout: RunsLayout, paths: RunPaths, formats: Sequence[str]) -> None:
    """Write the configured reports and append the step summary; warn on any failure."""
    run_id = paths.run_id
    manifest_path = paths.manifest
    summary_file = os.environ.get(STEP_SUMMARY_ENV)
    if not formats and not summary_file:
        return
    try:
        from codex_orchestrator.report.model import load_report
        from codex_orchestrator.report.render import render
        from codex_orchestrator.store.reports import write_report

        ref = RunRef(
            task_id=paths.task_id, run_id=run_id, manifest_path=manifest_path, source="cli"
        )
        report = load_report(layout, ref)
    except Exception as exc:  # a report must never fail or damage the run
        _warn(f"cannot read run {run_id} for its reports: {exc}")
        return
    for name in formats:
        try:
            write_report(manifest_path, name, render(report, ReportFormat(name)))
        except Exception as exc:  # a report must never fail or damage the run
            _warn(f"cannot write the {name} report of run {run_id}: {exc}")
    if summary_file:
        try:
            data = render(report, ReportFormat.MARKDOWN)
            with open(summary_file, "ab") as handle:
                handle.write(data)
        except Exception as exc:  # a report must never fail or damage the run
            _warn(f"cannot append the step summary to ${STEP_SUMMARY_ENV} ({summary_file}): {exc}")


def _warn(message: str) -> None:
    sys.stderr.write(f"codex-orchestrator: warning: {message}\n")
