"""``metrics summary``: stream ``.runs/<task>/metrics.json`` into ``metrics-summary.json``.

Seed fields (the TypeScript tool's): generated_at, task_id, metrics_file, entries_total,
entries_succeeded, entries_failed, success_rate, guardrail_coverage,
average_duration_seconds, parse_errors. Ours add counts by status, duration percentiles,
a per-pipeline breakdown and the first/last run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.errors import InvalidInput, OrchestratorError, StoreError
from codex_orchestrator.legacy.metrics_lines import ParseError, read_entries
from codex_orchestrator.legacy.metrics_stats import RunTable
from codex_orchestrator.legacy.readers import UNKNOWN
from codex_orchestrator.model import now_iso
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.fsutil import atomic_write
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id
from codex_orchestrator.store.manifest import read_manifest_dict

SUMMARY_VERSION = 1
MAX_PARSE_ERRORS = 100
# Lines of older runners name no pipeline; at most this many runs are looked up in
# their manifests (a lookup is a few stats and one small read).
MAX_PIPELINE_LOOKUPS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRequest:
    """Which task to summarise."""

    root: Path
    task: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryResult:
    """The document written and where."""

    document: dict[str, Any]
    path: Path


def summarize_task(request: SummaryRequest) -> SummaryResult:
    """Summarise a task's metrics file and write ``metrics-summary.json`` atomically."""
    layout = RunsLayout.for_root(request.root)
    task_id = resolve_task_id(request.task)
    metrics = layout.metrics_file(task_id)
    if not metrics.is_file():
        raise InvalidInput(f"no metrics file for task {task_id} at {layout.relative(metrics)}")
    document = build_summary(layout, task_id, metrics)
    target = layout.metrics_summary(task_id)
    try:
        atomic_write(target, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return SummaryResult(document=document, path=target)


def build_summary(layout: RunsLayout, task_id: str, metrics: Path) -> dict[str, Any]:
    """The summary document of one metrics file (streamed; nothing written)."""
    table = RunTable()
    errors: list[dict[str, Any]] = []
    error_count = 0
    try:
        for item in read_entries(metrics):
            if isinstance(item, ParseError):
                error_count += 1
                if len(errors) < MAX_PARSE_ERRORS:
                    errors.append(item.to_dict())
            else:
                table.add(item.line, item.data)
    except OSError as exc:
        raise InvalidInput(f"cannot read {metrics}: {exc.strerror or exc}") from exc
    _name_pipelines_from_manifests(layout, task_id, table)
    figures = table.figures()
    first, last = table.first_and_last()
    return {
        "version": SUMMARY_VERSION,
        "generated_at": now_iso(),
        "task_id": task_id,
        "metrics_file": layout.relative(metrics),
        "entries_total": figures["entries_total"],
        "entries_succeeded": figures["entries_succeeded"],
        "entries_failed": figures["entries_failed"],
        "success_rate": figures["success_rate"],
        "guardrail_coverage": figures["guardrail_coverage"],
        "average_duration_seconds": figures["average_duration_seconds"],
        "parse_errors": errors,
        # Ours, beyond the seed's fields.
        "entries_cancelled": figures["entries_cancelled"],
        "status_counts": figures["status_counts"],
        "durations_counted": figures["durations_counted"],
        "duration_p50_seconds": figures["duration_p50_seconds"],
        "duration_p95_seconds": figures["duration_p95_seconds"],
        "duration_max_seconds": figures["duration_max_seconds"],
        "first_run_at": first,
        "last_run_at": last,
        "lines_valid": table.lines,
        "lines_superseded": table.superseded,
        "parse_errors_total": error_count,
        "pipelines": table.per_pipeline(),
    }


def _name_pipelines_from_manifests(layout: RunsLayout, task_id: str, table: RunTable) -> None:
    """Lines of older runners name no pipeline: take it from the run's manifest, any layout.

    A manifest without ``pipeline_id`` (the agents-sdk runner's) is labelled by its runner.
    """
    for count, (run_id, row) in enumerate(list(table.runs_without_pipeline())):
        if count >= MAX_PIPELINE_LOOKUPS:
            return
        try:
            data = read_manifest_dict(locate_run(layout, run_id, task_id).manifest_path)
        except OrchestratorError:
            continue
        label = _pipeline_label(data)
        if label != UNKNOWN:
            table.set_pipeline(row, label)


def _pipeline_label(data: dict[str, Any]) -> str:
    pipeline = data.get("pipeline_id")
    if isinstance(pipeline, str) and pipeline:
        return pipeline
    runner = data.get("runner") or data.get("mode")
    return f"legacy:{runner}" if isinstance(runner, str) and runner else UNKNOWN
