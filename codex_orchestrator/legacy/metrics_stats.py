"""The latest metrics line of each run, kept as compact columns, and the figures drawn from them.

Memory is O(runs), a few dozen bytes a run plus its id: no raw line is held. A run with
several lines (a resumed run) keeps only its latest one, in file order.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from codex_orchestrator.legacy.readers import UNKNOWN, parse_legacy_time
from codex_orchestrator.model import format_iso

OTHER = "(other)"
MAX_STATUSES = 32
MAX_PIPELINES = 512
_NAN = math.nan
_STATUS_ALIASES = {"canceled": "cancelled"}


class _Codes:
    """Small integer codes for repeated labels; past ``limit`` labels, all map to OTHER."""

    def __init__(self, limit: int) -> None:
        self.labels: list[str] = []
        self._codes: dict[str, int] = {}
        self._limit = limit

    def code(self, label: str) -> int:
        found = self._codes.get(label)
        if found is not None:
            return found
        if len(self.labels) >= self._limit:
            label = OTHER
            if label in self._codes:
                return self._codes[label]
        self._codes[label] = len(self.labels)
        self.labels.append(label)
        return self._codes[label]


class RunTable:
    """One row per run: status, guardrails, duration, times, pipeline."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._status = array("H")
        self._guardrails = array("b")
        self._duration = array("d")
        self._started = array("d")
        self._finished = array("d")
        self._pipeline = array("H")
        self.statuses = _Codes(MAX_STATUSES)
        self.pipelines = _Codes(MAX_PIPELINES)
        self.lines = 0
        self.superseded = 0

    def __len__(self) -> int:
        return len(self._status)

    def add(self, line: int, data: Mapping[str, Any]) -> None:
        """Record one valid line; a later line of the same run replaces the earlier one."""
        self.lines += 1
        run_id = data.get("run_id")
        key = run_id if isinstance(run_id, str) and run_id else f"\x00line-{line}"
        started = _epoch(data.get("started_at"))
        finished = _epoch(data.get("completed_at"))
        row = (
            self.statuses.code(_status(data.get("status"))),
            1 if data.get("guardrails_present") is True else 0,
            _duration(data.get("duration_seconds")),
            started,
            finished if not math.isnan(finished) else started,
            self.pipelines.code(_label(data.get("pipeline_id"))),
        )
        columns = self._columns()
        index = self._index.get(key)
        if index is None:
            self._index[key] = len(self._status)
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        else:
            self.superseded += 1
            for column, value in zip(columns, row, strict=True):
                column[index] = value

    def _columns(self) -> tuple[array[Any], ...]:
        return (
            self._status,
            self._guardrails,
            self._duration,
            self._started,
            self._finished,
            self._pipeline,
        )

    def runs_without_pipeline(self) -> Iterator[tuple[str, int]]:
        """``(run_id, row)`` of runs whose line names no pipeline."""
        unknown = self.pipelines.code(UNKNOWN)
        for key, index in self._index.items():
            if self._pipeline[index] == unknown and not key.startswith("\x00"):
                yield key, index

    def set_pipeline(self, index: int, label: str) -> None:
        """Name the pipeline of one row (found in its manifest)."""
        self._pipeline[index] = self.pipelines.code(label)

    # -- figures --------------------------------------------------------------

    def status_counts(self, rows: Sequence[int] | None = None) -> dict[str, int]:
        """Runs per status; succeeded, failed and cancelled always present."""
        counts = dict.fromkeys(("succeeded", "failed", "cancelled"), 0)
        for index in rows if rows is not None else range(len(self)):
            label = self.statuses.labels[self._status[index]]
            counts[label] = counts.get(label, 0) + 1
        return counts

    def figures(self, rows: Sequence[int] | None = None) -> dict[str, Any]:
        """Counts, rates and duration figures over ``rows`` (all rows by default)."""
        chosen = rows if rows is not None else range(len(self))
        total = len(chosen)
        counts = self.status_counts(chosen)
        guarded = sum(self._guardrails[index] for index in chosen)
        in_order = [value for index in chosen if not math.isnan(value := self._duration[index])]
        durations = sorted(in_order)
        return {
            "entries_total": total,
            "entries_succeeded": counts["succeeded"],
            "entries_failed": counts["failed"],
            "entries_cancelled": counts["cancelled"],
            "status_counts": counts,
            "success_rate": _ratio(counts["succeeded"], total),
            "guardrail_coverage": _ratio(guarded, total),
            # Summed in file order, as the TypeScript script's reduce does, so that both
            # tools give the same double for the same history.
            "average_duration_seconds": sum(in_order) / len(in_order) if in_order else None,
            "durations_counted": len(durations),
            "duration_p50_seconds": percentile(durations, 0.50),
            "duration_p95_seconds": percentile(durations, 0.95),
            "duration_max_seconds": durations[-1] if durations else None,
        }

    def per_pipeline(self) -> dict[str, dict[str, Any]]:
        """The same figures for each pipeline, by pipeline id."""
        groups: dict[int, array[int]] = {}
        for index, code in enumerate(self._pipeline):
            groups.setdefault(code, array("I")).append(index)
        result = {}
        for code, rows in sorted(groups.items(), key=lambda item: self.pipelines.labels[item[0]]):
            figures = self.figures(rows)
            del figures["status_counts"]
            result[self.pipelines.labels[code]] = figures
        return result

    def first_and_last(self) -> tuple[str | None, str | None]:
        """The earliest start and the latest end (or start) over all runs."""
        starts = [value for value in self._started if not math.isnan(value)]
        ends = [value for value in self._finished if not math.isnan(value)]
        return (_iso(min(starts)) if starts else None, _iso(max(ends)) if ends else None)


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default) of sorted values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return min(max(value, ordered[low]), ordered[high])  # never outside by a rounding ulp


def _status(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return UNKNOWN
    return _STATUS_ALIASES.get(value, value)


def _label(value: Any) -> str:
    return value if isinstance(value, str) and value else UNKNOWN


def _duration(value: Any) -> float:
    """A finite, non-negative number of seconds (numeric strings too), else NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return _NAN
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return _NAN
    return number if math.isfinite(number) and number >= 0 else _NAN


def _epoch(value: Any) -> float:
    moment = parse_legacy_time(value)
    return moment.timestamp() if moment is not None else _NAN


def _iso(epoch: float) -> str:
    return format_iso(datetime.fromtimestamp(epoch, UTC))


def _ratio(part: int, whole: int) -> float | None:
    """Full precision, as the TypeScript script writes it (0.5833333333333334)."""
    return None if whole == 0 else part / whole
