"""Stages whose time spans overlap go on different lanes."""

from __future__ import annotations

from codex_orchestrator.report.lanes import assign_lanes


def test_sequential_stages_share_one_lane() -> None:
    assert assign_lanes([(0.0, 1.0), (1.0, 2.0), (2.0005, 3.0)]) == [0, 0, 0]


def test_overlapping_stages_go_side_by_side_and_reuse_free_lanes() -> None:
    spans = [(0.0, 5.0), (1.0, 2.0), (1.5, 3.0), (2.5, 4.0), (6.0, 7.0)]
    assert assign_lanes(spans) == [0, 1, 2, 1, 0]


def test_stages_that_never_ran_and_running_ones() -> None:
    # No start: lane 0, no bar. No end (still running): it holds its lane.
    assert assign_lanes([(None, None), (0.0, None), (1.0, 2.0)]) == [0, 0, 1]
