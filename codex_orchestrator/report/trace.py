"""Chrome trace-event JSON (opens in Perfetto and chrome://tracing).

Each run is a process (child runs too), each lane of parallel stages a thread, each
stage one complete (``"ph": "X"``) event; resume events are instant events.
"""

from __future__ import annotations

from typing import Any

import orjson

from codex_orchestrator.model import parse_iso
from codex_orchestrator.report.model import RunReport
from codex_orchestrator.report.text import one_line


def render_trace(report: RunReport) -> bytes:
    """The trace-event document of a run."""
    span = report.span()
    origin = span[0] if span is not None else 0.0
    events: list[dict[str, Any]] = []
    for pid, run in enumerate(report.walk(), start=1):
        events += _run_events(run, pid, origin)
    document = {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "run_id": report.manifest.run_id,
            "task_id": report.manifest.task_id,
            "pipeline_id": report.manifest.pipeline_id,
            "status": str(report.manifest.status),
            "started_at": report.manifest.started_at,
            "generated_by": report.manifest.runner_version or "codex-orchestrator",
        },
    }
    return orjson.dumps(document) + b"\n"


def _micros(moment: float, origin: float) -> int:
    return max(0, round((moment - origin) * 1_000_000))


def _run_events(run: RunReport, pid: int, origin: float) -> list[dict[str, Any]]:
    manifest = run.manifest
    name = f"{manifest.pipeline_id} {manifest.run_id} ({manifest.status})"
    events: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}},
        {
            "ph": "M",
            "name": "process_sort_index",
            "pid": pid,
            "tid": 0,
            "args": {"sort_index": pid},
        },
    ]
    events.extend(_thread_name(pid, lane) for lane in range(run.lanes))
    for stage in run.stages:
        record = stage.record
        if stage.start is None:
            continue
        end = stage.end if stage.end is not None else stage.start
        args: dict[str, Any] = {
            "index": record.index,
            "id": record.id,
            "status": str(record.status),
            "exit_code": record.exit_code,
            "signal": record.signal,
            "summary": one_line(record.summary, 500),
        }
        if record.command:
            args["command"] = one_line(record.command, 500)
        if record.resources is not None:
            args["cpu_seconds"] = round(record.resources.cpu_seconds, 3)
            args["peak_rss_bytes"] = record.resources.peak_rss_bytes
        if stage.child is not None:
            args["sub_run_id"] = stage.child.manifest.run_id
        if stage.failure is not None and stage.failure.reason:
            args["reason"] = stage.failure.reason
        events.append(
            {
                "ph": "X",
                "name": record.title
                if record.title == record.id
                else f"{record.id}: {record.title}",
                "cat": str(record.kind),
                "pid": pid,
                "tid": stage.lane + 1,
                "ts": _micros(stage.start, origin),
                "dur": _micros(end, stage.start),
                "args": args,
            }
        )
    for event in manifest.resume_events:
        moment = parse_iso(event.timestamp)
        if moment is None:
            continue
        events.append(
            {
                "ph": "i",
                "s": "p",
                "name": f"resume {event.outcome}",
                "cat": "resume",
                "pid": pid,
                "tid": 1,
                "ts": _micros(moment.timestamp(), origin),
                "args": {"actor": event.actor, "reason": event.reason, "detail": event.detail},
            }
        )
    return events


def _stage_name(stage_id: str, title: str) -> str:
    return stage_id if title == stage_id else f"{stage_id}: {title}"


def _thread_name(pid: int, lane: int) -> dict[str, Any]:
    return {"ph": "M", "name": "thread_name", "pid": pid, "tid": lane + 1} | {
        "args": {"name": f"lane {lane + 1}"}
    }
