"""Turning figures into a markdown table, target verdicts and a JSON document."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bench_scenarios import BARE, OURS, THEIRS, Figure

COLUMNS = (BARE, OURS, THEIRS)
HEADER = ("scenario", "figure", "bare", "ours", "theirs", "ours/theirs", "target", "result")
NO_VALUE = "—"


def _number(value: float, unit: str) -> str:
    if unit == "lines/s":
        return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.0f} k"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value:.2f}" if unit == "ms" else f"{value:.1f}"


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sample."""
    return statistics.median(values)


def cell(values: Sequence[float] | None, unit: str) -> str:
    """``median unit (min-max)``, or a dash when the column was not measured."""
    if not values:
        return NO_VALUE
    spread = f"{_number(min(values), unit)}-{_number(max(values), unit)}"
    return f"{_number(median(values), unit)} {unit} ({spread})"


def ratio(figure: Figure) -> float | None:
    """Median ours / median theirs, when both were measured."""
    ours, theirs = figure.samples.get(OURS), figure.samples.get(THEIRS)
    if not ours or not theirs or median(theirs) == 0:
        return None
    return median(ours) / median(theirs)


def verdict(figure: Figure) -> str:
    """PASS / FAIL against the figure's target; ``n/a`` when it cannot be judged."""
    ours = figure.samples.get(OURS)
    if figure.abs_limit is not None and ours:
        return "PASS" if median(ours) <= figure.abs_limit else "FAIL"
    if figure.ratio_limit is not None:
        value = ratio(figure)
        if value is None:
            return "n/a (no TS tool)"
        return "PASS" if value <= figure.ratio_limit else "FAIL"
    return ""


def table(figures: Sequence[Figure]) -> str:
    """The figures as a markdown table."""
    rows = [HEADER, tuple("---" for _ in HEADER)]
    for figure in figures:
        value = ratio(figure)
        rows.append(
            (
                f"`{figure.scenario}`",
                figure.label,
                *(cell(figure.samples.get(column), figure.unit) for column in COLUMNS),
                NO_VALUE if value is None else f"{value:.3f}x",
                figure.target,
                verdict(figure),
            )
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _summary(values: Sequence[float] | None) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "median": median(values),
        "min": min(values),
        "max": max(values),
        "samples": list(values),
    }


def as_json(figures: Sequence[Figure], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, for machines: medians, spreads, raw samples, verdicts."""
    return {
        "meta": meta,
        "figures": [
            {
                "scenario": figure.scenario,
                "figure": figure.label,
                "unit": figure.unit,
                **{column: _summary(figure.samples.get(column)) for column in COLUMNS},
                "ratio_ours_theirs": ratio(figure),
                "target": figure.target or None,
                "result": verdict(figure) or None,
            }
            for figure in figures
        ],
    }
