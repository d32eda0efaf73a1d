"""JUnit XML: a testsuite per run (child runs as their own suites), a testcase per stage.

Failed stages carry ``<failure>`` with the error tail, stages that were skipped, blocked
or never run carry ``<skipped>``; the document fits the common (Jenkins/Ant) JUnit XSD.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from codex_orchestrator.model import CommandStatus
from codex_orchestrator.report.model import RunReport, StageReport
from codex_orchestrator.report.text import one_line, visible_controls


def render_junit(report: RunReport) -> bytes:
    """The JUnit XML document of a run."""
    root = ET.Element("testsuites", name=_clean(f"codex-orchestrator {report.manifest.run_id}"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for run in report.walk():
        suite, counts = _suite(run)
        root.append(suite)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(report.duration_seconds))
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def _suite(run: RunReport) -> tuple[ET.Element, dict[str, int]]:
    manifest = run.manifest
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suite = ET.Element("testsuite", name=_clean(f"{manifest.pipeline_id} ({manifest.run_id})"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", manifest.run_id),
        ("task_id", manifest.task_id),
        ("pipeline_id", manifest.pipeline_id),
        ("pipeline_title", manifest.pipeline_title),
        ("status", str(manifest.status)),
        ("status_detail", manifest.status_detail),
        ("parent_run_id", manifest.parent_run_id),
        ("manifest", run.manifest_path),
        ("guardrails", run.guardrail_line),
    ):
        if value:
            ET.SubElement(properties, "property", name=name, value=_clean(value))
    for stage in run.stages:
        kind = _testcase(suite, manifest.pipeline_id, stage)
        counts["tests"] += 1
        if kind:
            counts[kind] += 1
    if manifest.summary:
        ET.SubElement(suite, "system-out").text = _clean(manifest.summary)
    suite.set("tests", str(counts["tests"]))
    suite.set("failures", str(counts["failures"]))
    suite.set("errors", str(counts["errors"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", _seconds(run.duration_seconds))
    suite.set("timestamp", manifest.started_at)
    suite.set("id", manifest.run_id)
    suite.set("package", _clean(manifest.task_id))
    if manifest.host:
        suite.set("hostname", _clean(manifest.host))
    return suite, counts


def _testcase(suite: ET.Element, pipeline_id: str, stage: StageReport) -> str | None:
    """Append a stage's testcase; return which count it adds to (failures/errors/skipped)."""
    record = stage.record
    case = ET.SubElement(
        suite,
        "testcase",
        name=_clean(record.id),
        classname=_clean(pipeline_id),
        time=_seconds(stage.duration_seconds),
    )
    failure = stage.failure
    summary = record.summary or ""
    if record.status is CommandStatus.FAILED:
        message = _failure_message(stage)
        element = ET.SubElement(case, "failure", message=_clean(message))
        element.set("type", _clean(failure.reason if failure and failure.reason else "failed"))
        element.text = _clean(failure.tail if failure else summary)
        return "failures"
    if record.status is CommandStatus.SKIPPED:
        ET.SubElement(case, "skipped").text = _clean(one_line(summary) or "skipped")
        if failure is not None and failure.tail:
            ET.SubElement(case, "system-out").text = _clean(failure.tail)
        return "skipped"
    if stage.blocked:
        reason = f"blocked by {', '.join(stage.blocked_by)}"
        text = f"{reason}: {one_line(summary)}" if summary else reason
        ET.SubElement(case, "skipped").text = _clean(text)
        return "skipped"
    if record.status is CommandStatus.PENDING:
        ET.SubElement(case, "skipped").text = _clean(one_line(summary) or "not run")
        return "skipped"
    if record.status is CommandStatus.RUNNING:
        element = ET.SubElement(case, "error", message="did not finish")
        element.set("type", "running")
        return "errors"
    if summary:
        ET.SubElement(case, "system-out").text = _clean(summary)
    return None


def _failure_message(stage: StageReport) -> str:
    record = stage.record
    parts = []
    if record.exit_code is not None:
        parts.append(f"exit code {record.exit_code}")
    elif record.signal:
        parts.append(f"ended by {record.signal}")
    if stage.failure is not None and stage.failure.reason:
        parts.append(stage.failure.reason)
    head = ", ".join(parts)
    summary = one_line(record.summary, 200)
    return f"{head}: {summary}" if head and summary else head or summary or "failed"


def _seconds(value: float | None) -> str:
    return f"{value or 0.0:.3f}"


def _clean(text: str) -> str:
    return visible_controls(text)
