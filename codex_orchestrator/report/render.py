"""Rendering a run's report in one format."""

from __future__ import annotations

from codex_orchestrator.model import ReportFormat
from codex_orchestrator.report.model import RunReport


def render(report: RunReport, report_format: ReportFormat) -> bytes:
    """The report's bytes in ``report_format``."""
    if report_format is ReportFormat.HTML:
        from codex_orchestrator.report.html import render_html

        return render_html(report)
    if report_format is ReportFormat.JUNIT:
        from codex_orchestrator.report.junit import render_junit

        return render_junit(report)
    if report_format is ReportFormat.MARKDOWN:
        from codex_orchestrator.report.markdown import render_markdown

        return render_markdown(report)
    from codex_orchestrator.report.trace import render_trace

    return render_trace(report)
