"""Placing stages on lanes: stages whose time spans overlap go on different lanes."""

from __future__ import annotations

from collections.abc import Sequence

# Timestamps have millisecond precision; a stage starting within this of the previous
# one's end ran after it, not beside it.
TOLERANCE_SECONDS = 0.002


def assign_lanes(spans: Sequence[tuple[float | None, float | None]]) -> list[int]:
    """A lane per span (0-based): the lowest lane free when the span starts.

    Spans without a start (stages that never ran) go on lane 0; a span without an end
    occupies its lane from its start on.
    """
    lanes = [0] * len(spans)
    lane_ends: list[float] = []
    order = sorted(
        (i for i, (start, _) in enumerate(spans) if start is not None),
        key=lambda i: (spans[i][0], i),
    )
    for i in order:
        start, end = spans[i]
        assert start is not None  # noqa: S101 - filtered above
        finish = end if end is not None else float("inf")
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start + TOLERANCE_SECONDS:
                lane_ends[lane] = finish
                lanes[i] = lane
                break
        else:
            lanes[i] = len(lane_ends)
            lane_ends.append(finish)
    return lanes
