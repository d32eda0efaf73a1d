"""The HTML report's timeline: a row per lane of each run, child runs nested below.

Bars are positioned in percent of the run's whole span, so the timeline fits any
screen width; each bar links to its row in the stage table.
"""

from __future__ import annotations

from html import escape

from codex_orchestrator.report.model import RunReport, StageReport
from codex_orchestrator.report.text import duration_text, visible_controls

AXIS_TICKS = 4


def timeline(report: RunReport, row_ids: dict[int, str]) -> str:
    """The timeline section's inner HTML (``row_ids``: stage object id -> table row id)."""
    span = report.span()
    if span is None:
        return '<p class="note">No stage has started yet.</p>'
    origin, end = span
    width = max(end - origin, 0.001)
    parts = ['<div class="tl">', _axis(width)]
    _run_rows(report, origin, width, row_ids, parts, None)
    parts.append("</div>")
    return "".join(parts)


def _axis(width: float) -> str:
    ticks = "".join(
        f'<span style="left:{100 * i / AXIS_TICKS:.2f}%">{escape(_offset(width * i / AXIS_TICKS))}'
        "</span>"
        for i in range(AXIS_TICKS + 1)
    )
    label = '<div class="tl-label">time</div>'
    return f'<div class="tl-row tl-axis">{label}<div class="tl-track">{ticks}</div></div>'


def _offset(seconds: float) -> str:
    return "0" if seconds == 0 else f"+{duration_text(seconds)}"


def _run_rows(
    run: RunReport,
    origin: float,
    width: float,
    row_ids: dict[int, str],
    parts: list[str],
    via: StageReport | None,
) -> None:
    manifest = run.manifest
    lanes: list[list[str]] = [[] for _ in range(run.lanes)]
    for stage in run.stages:
        if stage.start is not None:
            lanes[stage.lane].append(_bar(stage, origin, width, row_ids.get(id(stage))))
    name = (
        manifest.pipeline_id if via is None else f"\u21b3 {via.record.id}: {manifest.pipeline_id}"
    )
    extra = " tl-child" if via is not None else ""
    for number, bars in enumerate(lanes, start=1):
        label = name if run.lanes == 1 else f"{name} \u00b7 lane {number}"
        parts.append(
            f'<div class="tl-row{extra if number == 1 else ""}" data-depth="{run.depth}">'
            f'<div class="tl-label" title="{_e(label)}">{_e(label)}</div>'
            f'<div class="tl-track">{"".join(bars)}</div></div>'
        )
    for stage in run.stages:
        if stage.child is not None:
            _run_rows(stage.child, origin, width, row_ids, parts, stage)


def _bar(stage: StageReport, origin: float, width: float, row_id: str | None) -> str:
    assert stage.start is not None  # noqa: S101 - only started stages get a bar
    end = stage.end if stage.end is not None else stage.start
    left = 100 * (stage.start - origin) / width
    size = 100 * (end - stage.start) / width
    record = stage.record
    status = "blocked" if stage.blocked else str(record.status)
    tip = f"{record.id} — {status}, {duration_text(stage.duration_seconds)}"
    href = f' href="#{row_id}"' if row_id else ""
    return (
        f'<a class="bar st-{status}"{href} style="left:{left:.3f}%;width:{size:.3f}%"'
        f' title="{_e(tip)}" aria-label="{_e(tip)}"></a>'
    )


def _e(text: str) -> str:
    return escape(visible_controls(text), quote=True)
