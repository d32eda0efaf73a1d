"""The HTML report: one self-contained page (inline CSS and script, no network at all).

Everything that came from a command or a config (ids, titles, commands, summaries,
output tails) is escaped, and a Content-Security-Policy allows only our own script,
so output such as ``<script>`` stays text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from codex_orchestrator.model import CommandStatus
from codex_orchestrator.report.html_assets import SCRIPT, STYLE, content_security_policy
from codex_orchestrator.report.html_timeline import timeline
from codex_orchestrator.report.model import RunReport, StageReport
from codex_orchestrator.report.text import (
    NEST,
    bytes_text,
    cpu_text,
    duration_text,
    exit_text,
    last_lines,
    one_line,
    rss_text,
    visible_controls,
)

TAIL_LINES = 60
TAIL_CHARS = 6000
# All failure tails together: beyond this, failures are listed without their tails.
TAILS_BUDGET_CHARS = 1_500_000
STAGE_COLUMNS = ("#", "Stage", "Status", "Duration", "Exit", "CPU", "Peak RSS", "Summary")


def render_html(report: RunReport) -> bytes:
    """The HTML page of a run."""
    rows = list(report.stage_rows())
    row_ids = {id(stage): f"s-{number}" for number, (_, stage) in enumerate(rows, start=1)}
    manifest = report.manifest
    status = str(manifest.status)
    title = f"{status} · {manifest.pipeline_id} · {manifest.run_id}"
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>",
        f'<body data-status="{_e(status)}">',
        _header(report, rows),
        "<main>",
        _summary(report),
        '<section id="timeline"><h2>Timeline</h2>',
        timeline(report, row_ids),
        "</section>",
        _stages(rows, row_ids),
        _failures(rows, row_ids),
        _resume_events(report),
        _records("artifacts", "Artifacts", _artifact_rows(report)),
        _records("gates", "Gates", _gate_rows(report)),
        _child_runs(report),
        "</main>",
        _footer(report),
        f"<script>{SCRIPT}</script></body></html>\n",
    ]
    return "".join(parts).encode("utf-8")


def _e(text: object) -> str:
    return escape(visible_controls("" if text is None else str(text)), quote=True)


def _footer(report: RunReport) -> str:
    runner = report.manifest.runner_version or "codex-orchestrator"
    text = f"Generated {report.generated_at} by {runner} from {report.manifest_path}"
    return f"<footer>{_e(text)}</footer>"


def _status_of(stage: StageReport) -> str:
    return "blocked" if stage.blocked else str(stage.record.status)


def _badge(status: str) -> str:
    return f'<span class="badge st-{_e(status)}">{_e(status)}</span>'


def _header(report: RunReport, rows: list[tuple[tuple[str, ...], StageReport]]) -> str:
    manifest = report.manifest
    counts: dict[str, int] = {}
    for _, stage in rows:
        counts[_status_of(stage)] = counts.get(_status_of(stage), 0) + 1
    tally = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    detail = f" ({manifest.status_detail})" if manifest.status_detail else ""
    line = (
        f"{str(manifest.status).replace('_', ' ').capitalize()}{detail} · {len(rows)} stages"
        f"{': ' + tally if tally else ''} · {duration_text(report.duration_seconds)}"
    )
    resources = manifest.resources
    facts = [
        ("Run", manifest.run_id),
        ("Task", manifest.task_id),
        ("Started", manifest.started_at),
        ("Completed", manifest.completed_at or "not yet"),
        ("CPU", f"{resources.cpu_seconds:.2f} s" if resources else "—"),
        ("Peak RSS", bytes_text(resources.peak_rss_bytes) if resources else "—"),
        ("Host", manifest.host or "—"),
        ("Parent run", manifest.parent_run_id or "—"),
    ]
    kept = report.raw.get("artifacts_path")
    if isinstance(kept, str) and kept:
        facts.append(("Kept artifacts", kept))
    facts_html = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    return (
        f"<header><h1>{_badge(str(manifest.status))} {_e(manifest.pipeline_title)} "
        f"<small>{_e(manifest.pipeline_id)}</small></h1>"
        f'<p class="statusline" id="statusline">{_e(line)}</p><dl class="facts">{facts_html}</dl>'
        "</header>"
    )


def _summary(report: RunReport) -> str:
    summary = report.manifest.summary
    guardrail = report.guardrail_line
    body = f"<pre>{_e(summary)}</pre>" if summary else '<p class="note">No summary yet.</p>'
    if guardrail:
        ok = "succeeded" in guardrail or "not configured" in guardrail
        state = "st-succeeded" if ok else "st-failed"
        body += f'<p class="guardrail {state}" id="guardrail">{_e(guardrail)}</p>'
    return f'<section id="summary"><h2>Summary</h2>{body}</section>'


def _stages(rows: list[tuple[tuple[str, ...], StageReport]], row_ids: dict[int, str]) -> str:
    numeric = {"#", "Duration", "Exit", "CPU", "Peak RSS"}
    head = "".join(
        f'<th class="n">{_e(c)}</th>' if c in numeric else f"<th>{_e(c)}</th>"
        for c in STAGE_COLUMNS
    )
    body = [_stage_row(parents, stage, row_ids[id(stage)]) for parents, stage in rows]
    return (
        '<section id="stages"><h2>Stages</h2><div class="filters" id="filters"></div>'
        f'<div class="scroll"><table class="stages"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _stage_row(parents: tuple[str, ...], stage: StageReport, row_id: str) -> str:
    record = stage.record
    status = _status_of(stage)
    within = f"<small>in {_e(NEST.join(parents))}</small><br>" if parents else ""
    title = f"<br><small>{_e(record.title)}</small>" if record.title != record.id else ""
    command = f'<div class="cmd"><code>{_e(one_line(record.command, 300))}</code></div>'
    summary = one_line(record.summary, 500)
    if stage.blocked:
        summary = f"blocked by {', '.join(stage.blocked_by)}" + (f": {summary}" if summary else "")
    cells = (
        ("#", str(record.index), "n"),
        ("Stage", None, "name"),
        ("Status", None, ""),
        ("Duration", duration_text(stage.duration_seconds), "n"),
        ("Exit", exit_text(record), "n"),
        ("CPU", cpu_text(record), "n"),
        ("Peak RSS", rss_text(record), "n"),
        ("Summary", summary, "sum"),
    )
    out = [
        f'<tr class="stage" id="{row_id}" data-status="{_e(status)}" data-depth="{len(parents)}">'
    ]
    for label, value, css in cells:
        if label == "Stage":
            stage_id = f'<code class="sid">{_e(record.id)}</code>'
            inner = f"{within}{stage_id}{title}{command if record.command else ''}"
        elif label == "Status":
            inner = _badge(status)
        else:
            inner = _e(value)
        out.append(f'<td class="{css}" data-label="{label}">{inner}</td>')
    out.append("</tr>")
    return "".join(out)


def _failures(rows: list[tuple[tuple[str, ...], StageReport]], row_ids: dict[int, str]) -> str:
    failed = [(p, s) for p, s in rows if s.record.status is CommandStatus.FAILED]
    if not failed:
        return ""
    budget = TAILS_BUDGET_CHARS
    articles = []
    for parents, stage in failed:
        record = stage.record
        failure = stage.failure
        name = NEST.join((*parents, record.id))
        reason = failure.reason if failure and failure.reason else "failed"
        head = f'<h3><a href="#{row_ids[id(stage)]}"><code>{_e(name)}</code></a> — {_e(reason)}'
        head += f", exit {_e(exit_text(record))}</h3>"
        body = f"<p>{_e(record.summary)}</p>" if record.summary else ""
        if failure is None or not failure.tail:
            body += '<p class="note">No output was recorded.</p>'
        elif budget <= 0:
            left_out = f"Output left out to keep this page small; see {failure.error_file}."
            body += f'<p class="note">{_e(left_out)}</p>'
        else:
            tail, cut = last_lines(failure.tail, TAIL_LINES, TAIL_CHARS)
            budget -= len(tail)
            if cut:
                body += f'<p class="note">Last lines; the rest is in {_e(failure.error_file)}.</p>'
            body += f'<pre class="tail">{_e(tail)}</pre>'
        articles.append(f'<article class="failure">{head}{body}</article>')
    return f'<section id="failures"><h2>Failures ({len(failed)})</h2>{"".join(articles)}</section>'


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _resume_events(report: RunReport) -> str:
    rows = [
        (run.manifest.run_id, e.timestamp, e.actor, e.outcome, e.reason, e.detail or "")
        for run in report.walk()
        for e in run.manifest.resume_events
    ]
    if not rows:
        return ""
    table = _table(("Run", "Time", "Actor", "Outcome", "Reason", "Detail"), rows)
    return f'<section id="resume"><h2>Resume events</h2>{table}</section>'


def _records(section_id: str, heading: str, table: tuple[list[str], list[list[str]]] | None) -> str:
    if table is None:
        return ""
    headers, rows = table
    return f'<section id="{section_id}"><h2>{_e(heading)}</h2>{_table(headers, rows)}</section>'


def _artifact_rows(report: RunReport) -> tuple[list[str], list[list[str]]] | None:
    items = [(run, a) for run in report.walk() for a in run.artifacts]
    if not items:
        return None
    headers = [
        "Name",
        "Status",
        "Path",
        "Producer",
        "Format",
        "Size",
        "SHA-256",
        "Validated",
        "Findings",
    ]
    rows = []
    for _, artifact in items:
        size = artifact.get("size_bytes")
        sha = artifact.get("sha256")
        rows.append(
            [
                _field(artifact, "name"),
                _field(artifact, "status"),
                _field(artifact, "path"),
                _field(artifact, "producer"),
                _field(artifact, "format"),
                bytes_text(size) if isinstance(size, int) and not isinstance(size, bool) else "—",
                sha[:12] if isinstance(sha, str) else "—",
                _field(artifact, "validated_at"),
                _findings(artifact.get("findings")),
            ]
        )
    return headers, rows


def _findings(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "none"
    texts = []
    for finding in value:
        if isinstance(finding, Mapping):
            severity = finding.get("severity", "error")
            texts.append(f"{severity}: {finding.get('rule', '?')}: {finding.get('message', '')}")
    return "; ".join(texts)


def _gate_rows(report: RunReport) -> tuple[list[str], list[list[str]]] | None:
    items = [gate for run in report.walk() for gate in run.gates]
    if not items:
        return None
    headers = ["Gate", "Artifact", "Fired", "Action", "Stages", "Notify", "Message", "Evaluated"]
    rows = [
        [
            _field(gate, "id"),
            _field(gate, "artifact"),
            "yes" if gate.get("fired") is True else "no",
            _field(gate, "action"),
            _joined(gate.get("stages")),
            _joined(gate.get("notify")),
            _field(gate, "message"),
            _field(gate, "evaluated_at"),
        ]
        for gate in items
    ]
    return headers, rows


def _field(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "—" if value is None else str(value)


def _joined(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else "—"


def _child_runs(report: RunReport) -> str:
    children = [run for run in report.walk() if run is not report]
    if not children:
        return ""
    rows = [
        (
            run.manifest.run_id,
            run.manifest.pipeline_id,
            str(run.manifest.status),
            duration_text(run.duration_seconds),
            run.manifest_path,
        )
        for run in children
    ]
    table = _table(("Run", "Pipeline", "Status", "Duration", "Manifest"), rows)
    return f'<section id="children"><h2>Child runs</h2>{table}</section>'
