"""Text output of ``artifacts check``: one line per artifact, its findings under it."""

from __future__ import annotations

import sys
from typing import TextIO

from codex_orchestrator.artifacts.check import CheckReport

_MARKS = {"valid": "ok  ", "invalid": "FAIL", "missing": "MISS"}


def render_check(report: CheckReport, stream: TextIO | None = None) -> None:
    """Print each artifact's status and findings, then the gates and the verdict."""
    out = stream or sys.stdout
    out.write(f"registry: {report.registry}\n")
    for checked in report.checked:
        spec = checked.spec
        out.write(f"{_MARKS.get(checked.status, checked.status)} {spec.name} ({spec.path})\n")
        for finding in checked.findings:
            out.write(f"     {finding.severity}: {finding.rule}: {finding.message}\n")
    for gate in report.gates:
        state = "fired" if gate["fired"] else "not fired"
        message = f" - {gate['message']}" if gate["fired"] and gate["message"] else ""
        out.write(f"gate {gate['id']}: {state} ({gate['action']}){message}\n")
    verdict = "all valid" if report.valid else "INVALID"
    out.write(f"{len(report.checked)} artifact(s): {verdict}\n")
    out.flush()
