"""A Markdown step summary: the run's status, a table of stages, failures with their tails.

Always under 1 MiB (GitHub's limit for ``$GITHUB_STEP_SUMMARY``), whatever the run's
size: rows and tails that do not fit are left out, and a note says how many.
"""

from __future__ import annotations

import html
import re

from codex_orchestrator.model import CommandStatus
from codex_orchestrator.report.model import RunReport, StageReport
from codex_orchestrator.report.text import (
    NEST,
    cpu_text,
    duration_text,
    exit_text,
    last_lines,
    one_line,
    rss_text,
    visible_controls,
)

LIMIT_BYTES = 1024 * 1024 - 1024  # under 1 MiB, with room for a trailing newline or two
NOTE_RESERVE_BYTES = 1024
TAIL_LINES = 20
TAIL_CHARS = 2000
SUMMARY_CHARS = 8000

STATUS_ICONS = {
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "⛔",
    "skipped": "⏭️",
    "pending": "⏸️",
    "blocked": "🚫",
    "running": "⏳",
    "in_progress": "⏳",
    "queued": "⏳",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]~#])")


class _Budget:
    """Chunks of Markdown, refused once they would pass the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.chunks: list[str] = []
        self.dropped: dict[str, int] = {}

    def add(self, chunk: str, what: str | None = None) -> bool:
        size = len(chunk.encode("utf-8"))
        if self.used + size > self.limit - NOTE_RESERVE_BYTES:
            if what is not None:
                self.dropped[what] = self.dropped.get(what, 0) + 1
            return False
        self.chunks.append(chunk)
        self.used += size
        return True


def render_markdown(report: RunReport, limit: int = LIMIT_BYTES) -> bytes:
    """The step summary of a run, UTF-8, at most ``limit`` bytes."""
    manifest = report.manifest
    budget = _Budget(limit)
    budget.add(_heading(report))
    if manifest.summary:
        summary, _ = last_lines(manifest.summary, 200, SUMMARY_CHARS)
        budget.add(_code_block(summary))
    rows = list(report.stage_rows())
    budget.add(
        "| # | Stage | Status | Duration | Exit | CPU | Peak RSS | Summary |\n"
        "|---:|---|---|---:|---:|---:|---:|---|\n"
    )
    for parents, stage in rows:
        budget.add(_row(parents, stage), "stage rows")
    budget.add("\n")
    failures = [(p, s) for p, s in rows if s.record.status is CommandStatus.FAILED]
    if failures:
        budget.add("### Failures\n\n")
        for parents, stage in failures:
            budget.add(_failure(parents, stage), "failures")
    _resume_events(report, budget)
    _artifacts_and_gates(report, budget)
    if budget.dropped:
        left_out = ", ".join(f"{count} {what}" for what, count in budget.dropped.items())
        note = (
            f"\n_Left out to keep this summary under 1 MiB: {left_out}. The whole report: "
            f"`codex-orchestrator report --run {_code(manifest.run_id)} --format html`._\n"
        )
        budget.chunks.append(note)
    data = "".join(budget.chunks).encode("utf-8")
    # The note fits in the reserve; this only guards a limit smaller than the reserve.
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


def _heading(report: RunReport) -> str:
    manifest = report.manifest
    status = str(manifest.status)
    icon = STATUS_ICONS.get(status, "")
    title = _cell(f"{manifest.pipeline_title} ({manifest.pipeline_id})")
    detail = f" · `{_code(manifest.status_detail)}`" if manifest.status_detail else ""
    stages = sum(1 for _ in report.stage_rows())
    facts = (
        f"Run `{_code(manifest.run_id)}` · task `{_code(manifest.task_id)}` · {stages} stages · "
        f"{duration_text(report.duration_seconds)}{detail}"
    )
    guardrail = f"\n\n{_cell(report.guardrail_line)}" if report.guardrail_line else ""
    return f"## {icon} {title}: {status}\n\n{facts}{guardrail}\n\n"


def _status(stage: StageReport) -> str:
    name = "blocked" if stage.blocked else str(stage.record.status)
    return f"{STATUS_ICONS.get(name, '')} {name}"


def _row(parents: tuple[str, ...], stage: StageReport) -> str:
    record = stage.record
    name = NEST.join((*parents, record.id))
    cells = (
        str(record.index),
        f"`{_code(name).replace('|', chr(92) + '|')}`",
        _status(stage),
        duration_text(stage.duration_seconds),
        exit_text(record),
        cpu_text(record),
        rss_text(record),
        _cell(one_line(record.summary, 200)),
    )
    return "| " + " | ".join(cells) + " |\n"


def _failure(parents: tuple[str, ...], stage: StageReport) -> str:
    record = stage.record
    name = NEST.join((*parents, record.id))
    failure = stage.failure
    reason = f" ({_cell(failure.reason)})" if failure and failure.reason else ""
    head = f"<details><summary><code>{_cell(name)}</code>: exit {exit_text(record)}{reason}"
    head += f" — {_cell(one_line(record.summary, 200))}</summary>\n\n"
    if failure is None or not failure.tail:
        return head + "No output was recorded.\n\n</details>\n\n"
    tail, cut = last_lines(failure.tail, TAIL_LINES, TAIL_CHARS)
    note = (
        f"Last {TAIL_LINES} lines; the rest is in `{_code(failure.error_file)}`.\n\n" if cut else ""
    )
    return head + note + _code_block(tail) + "</details>\n\n"


def _resume_events(report: RunReport, budget: _Budget) -> None:
    events = [event for run in report.walk() for event in run.manifest.resume_events]
    if not events:
        return
    budget.add(
        "### Resume events\n\n| Time | Actor | Outcome | Reason | Detail |\n|---|---|---|---|---|\n"
    )
    for event in events:
        cells = (event.timestamp, event.actor, event.outcome, event.reason, event.detail or "")
        budget.add("| " + " | ".join(_cell(c) for c in cells) + " |\n", "resume events")
    budget.add("\n")


def _artifacts_and_gates(report: RunReport, budget: _Budget) -> None:
    if report.artifacts:
        budget.add(
            "### Artifacts\n\n| Name | Status | Path | Producer | Findings |\n"
            "|---|---|---|---|---|\n"
        )
        for artifact in report.artifacts:
            findings = artifact.get("findings")
            count = len(findings) if isinstance(findings, list) else 0
            cells = (
                str(artifact.get("name", "")),
                str(artifact.get("status", "")),
                str(artifact.get("path", "")),
                str(artifact.get("producer", "")),
                str(count),
            )
            budget.add("| " + " | ".join(_cell(c) for c in cells) + " |\n", "artifacts")
        budget.add("\n")
    if report.gates:
        budget.add(
            "### Gates\n\n| Gate | Fired | Action | Stages | Message |\n|---|---|---|---|---|\n"
        )
        for gate in report.gates:
            stages = gate.get("stages")
            cells = (
                str(gate.get("id", "")),
                "yes" if gate.get("fired") is True else "no",
                str(gate.get("action", "")),
                ", ".join(map(str, stages)) if isinstance(stages, list) else "",
                str(gate.get("message") or ""),
            )
            budget.add("| " + " | ".join(_cell(c) for c in cells) + " |\n", "gates")
        budget.add("\n")


def _cell(text: str | None) -> str:
    """Text that stays text in a table cell: no HTML, no Markdown, no line breaks, no pipes."""
    flat = " ".join(visible_controls(text or "").split())
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", flat), quote=False).replace("|", "&#124;")


def _code(text: str | None) -> str:
    """Text inside a code span: backticks and line breaks would end it."""
    return " ".join(visible_controls(text or "").split()).replace("`", "'")


def _code_block(text: str) -> str:
    """A fenced block longer than any run of backticks inside it, so nothing escapes it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{visible_controls(text)}\n{fence}\n\n"
