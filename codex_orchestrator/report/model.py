"""A run as the reports see it: its stages with times, lanes, failures and child runs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import CommandRecord, CommandStatus, RunManifest, now_iso, parse_iso
from codex_orchestrator.report.lanes import assign_lanes
from codex_orchestrator.store.catalog import RunRef, locate_run
from codex_orchestrator.store.evidence import read_error_file
from codex_orchestrator.store.layout import RunsLayout, error_file_beside
from codex_orchestrator.store.manifest import read_manifest_dict

# Child runs nest at most this deep (a hostile manifest could name itself as its child).
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """What a stage's error file says: why it failed and the last lines it printed."""

    reason: str | None
    message: str | None
    stdout_tail: str
    stderr_tail: str
    stdout_truncated: bool
    stderr_truncated: bool
    error_file: str

    @property
    def tail(self) -> str:
        """Both tails, stderr last (it usually says why), labelled when both are present."""
        if self.stdout_tail and self.stderr_tail:
            return f"{self.stdout_tail.rstrip()}\n--- stderr ---\n{self.stderr_tail}"
        return self.stderr_tail or self.stdout_tail


@dataclass(frozen=True, slots=True, kw_only=True)
class StageReport:
    """One stage: its manifest record, its span in time, its lane, failure and child run."""

    record: CommandRecord
    start: float | None
    end: float | None
    lane: int
    failure: Failure | None
    child: RunReport | None
    blocked_by: tuple[str, ...]

    @property
    def duration_seconds(self) -> float | None:
        """The recorded duration, else the span between start and end."""
        if self.record.duration_ms is not None:
            return self.record.duration_ms / 1000
        if self.start is not None and self.end is not None:
            return max(0.0, self.end - self.start)
        return None

    @property
    def blocked(self) -> bool:
        """A stage that did not run because something it needs failed (or a gate blocked it)."""
        return self.record.status is CommandStatus.PENDING and bool(self.blocked_by)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """One run and, nested in its subpipeline stages, its child runs."""

    manifest: RunManifest
    raw: Mapping[str, Any]
    manifest_path: str
    stages: tuple[StageReport, ...]
    lanes: int
    depth: int
    start: float | None
    end: float | None
    generated_at: str

    @property
    def artifacts(self) -> tuple[Mapping[str, Any], ...]:
        """The manifest's ``artifacts[]`` (registry artifacts), when it has them."""
        return _maps(self.raw.get("artifacts"))

    @property
    def gates(self) -> tuple[Mapping[str, Any], ...]:
        """The manifest's ``gates[]`` (gate results), when it has them."""
        return _maps(self.raw.get("gates"))

    @property
    def guardrail_line(self) -> str | None:
        """The summary's ``Guardrails: ...`` line."""
        for line in reversed((self.manifest.summary or "").splitlines()):
            if line.startswith("Guardrails:"):
                return line
        return None

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from start to completion (or the last update of a run not finished)."""
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)

    def walk(self) -> Iterator[RunReport]:
        """This run, then every child run, depth first in stage order."""
        yield self
        for stage in self.stages:
            if stage.child is not None:
                yield from stage.child.walk()

    def stage_rows(
        self, parents: tuple[str, ...] = ()
    ) -> Iterator[tuple[tuple[str, ...], StageReport]]:
        """Every stage with the ids of the subpipeline stages it is nested in, in order.

        A child run's stages follow the subpipeline stage that ran it.
        """
        for stage in self.stages:
            yield parents, stage
            if stage.child is not None:
                yield from stage.child.stage_rows((*parents, stage.record.id))

    def span(self) -> tuple[float, float] | None:
        """The earliest start and the latest end over this run and its children."""
        starts = [r.start for r in self.walk() if r.start is not None]
        ends = [r.end for r in self.walk() if r.end is not None]
        for run in self.walk():
            starts += [s.start for s in run.stages if s.start is not None]
            ends += [s.end for s in run.stages if s.end is not None]
        if not starts or not ends:
            return None
        return min(starts), max(*ends, min(starts))


def load_report(layout: RunsLayout, ref: RunRef) -> RunReport:
    """Read a run (and its child runs) through the store readers."""
    return _load(layout, ref, depth=0, seen=frozenset(), generated_at=now_iso())


def _load(
    layout: RunsLayout, ref: RunRef, *, depth: int, seen: frozenset[str], generated_at: str
) -> RunReport:
    raw = read_manifest_dict(ref.manifest_path)
    manifest = RunManifest.from_dict(raw)
    seen = seen | {manifest.run_id}
    now = datetime.now(UTC).timestamp()
    run_start = _stamp(manifest.started_at)
    run_end = _stamp(manifest.completed_at) or _stamp(manifest.updated_at) or run_start
    spans: list[tuple[float | None, float | None]] = []
    for record in manifest.commands:
        start = _stamp(record.started_at)
        end = _stamp(record.completed_at)
        if start is not None and end is None and record.status is CommandStatus.RUNNING:
            end = run_end if manifest.status.terminal else max(run_end or start, now)
        spans.append((start, end if end is None or start is None else max(start, end)))
    lanes = assign_lanes(spans)
    stages = []
    for record, (start, end), lane in zip(manifest.commands, spans, lanes, strict=True):
        child = None
        if record.sub_run_id and record.sub_run_id not in seen and depth + 1 < MAX_DEPTH:
            child = _child(layout, record.sub_run_id, ref.task_id, depth, seen, generated_at)
        stages.append(
            StageReport(
                record=record,
                start=start,
                end=end,
                lane=lane,
                failure=_failure(layout, ref.manifest_path, record),
                child=child,
                blocked_by=_blocked_by(record),
            )
        )
    return RunReport(
        manifest=manifest,
        raw=raw,
        manifest_path=layout.relative(ref.manifest_path),
        stages=tuple(stages),
        lanes=max(lanes, default=0) + 1,
        depth=depth,
        start=run_start,
        end=run_end,
        generated_at=generated_at,
    )


def _child(
    layout: RunsLayout,
    run_id: str,
    task_id: str,
    depth: int,
    seen: frozenset[str],
    generated_at: str,
) -> RunReport | None:
    try:
        ref = locate_run(layout, run_id, task_id)
        if _inside_runs(layout, ref.manifest_path) is None:
            return None  # linked out of the tree: never read into a report
        return _load(layout, ref, depth=depth + 1, seen=seen, generated_at=generated_at)
    except OrchestratorError:
        return None  # a child that is gone or unreadable: the parent's record still shows


def _failure(layout: RunsLayout, manifest_path: Path, record: CommandRecord) -> Failure | None:
    if record.error_file is None and record.status is not CommandStatus.FAILED:
        return None
    path = error_file_beside(manifest_path, record.index, record.id)
    inside = _inside_runs(layout, path)
    data = read_error_file(inside) if inside is not None else None
    if data is None and record.error_file:
        recorded = _inside_runs(layout, layout.from_recorded(record.error_file))
        data = read_error_file(recorded) if recorded is not None else None
    if data is None:
        return None
    details = data.get("details")
    details = details if isinstance(details, Mapping) else {}
    return Failure(
        reason=_text(data.get("reason")),
        message=_text(details.get("message")),
        stdout_tail=_text(details.get("stdout_tail")) or "",
        stderr_tail=_text(details.get("stderr_tail")) or "",
        stdout_truncated=details.get("stdout_truncated") is True,
        stderr_truncated=details.get("stderr_truncated") is True,
        error_file=layout.relative(path),
    )


def _inside_runs(layout: RunsLayout, path: Path) -> Path | None:
    """``path`` when it really lies under the runs directory (no traversal, no links out)."""
    real = Path(os.path.realpath(path))
    return real if real.is_relative_to(os.path.realpath(layout.runs_dir)) else None


def _blocked_by(record: CommandRecord) -> tuple[str, ...]:
    value = record.extra.get("blocked_by")
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value)


def _stamp(text: str | None) -> float | None:
    moment = parse_iso(text)
    return moment.timestamp() if moment is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _maps(value: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, Mapping))
