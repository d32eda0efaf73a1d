"""Chrome trace-event JSON of real runs, in the shape Perfetto's JSON importer reads."""

from __future__ import annotations

from typing import Any

import orjson

from .runs import SampleRuns, manifest

KNOWN_PHASES = {"X", "M", "i"}
METADATA_NAMES = {"process_name", "thread_name", "process_sort_index"}


def _trace(sample_runs: SampleRuns, run_id: str) -> dict[str, Any]:
    document = orjson.loads(sample_runs.report(run_id, "trace"))
    assert isinstance(document, dict)
    return document


def _check_structure(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What the importer needs: a traceEvents array of well-typed events."""
    events = document["traceEvents"]
    assert isinstance(events, list)
    assert document["displayTimeUnit"] in ("ms", "ns")
    named_threads = set()
    named_processes = set()
    for event in events:
        assert event["ph"] in KNOWN_PHASES, event
        assert isinstance(event["name"], str), event
        assert isinstance(event["pid"], int), event
        assert isinstance(event["tid"], int), event
        if event["ph"] == "M":
            assert event["name"] in METADATA_NAMES
            assert isinstance(event["args"], dict)
            if event["name"] == "thread_name":
                named_threads.add((event["pid"], event["tid"]))
            if event["name"] == "process_name":
                named_processes.add(event["pid"])
                assert isinstance(event["args"]["name"], str)
        else:
            assert isinstance(event["ts"], int), event
            assert event["ts"] >= 0
        if event["ph"] == "X":
            assert isinstance(event["dur"], int), event
            assert event["dur"] >= 0
    complete = [e for e in events if e["ph"] == "X"]
    for event in complete:
        assert (event["pid"], event["tid"]) in named_threads, event
        assert event["pid"] in named_processes
    return complete


def test_one_complete_event_per_stage_child_runs_as_their_own_process(
    sample_runs: SampleRuns,
) -> None:
    document = _trace(sample_runs, sample_runs.ci)
    complete = _check_structure(document)
    parent = manifest(sample_runs.project, sample_runs.ci)
    started = [c["id"] for c in parent["commands"] if c["started_at"]]
    assert started == ["build", "checks", "hostile"]  # "after" never ran
    by_pid: dict[int, list[dict[str, Any]]] = {}
    for event in complete:
        by_pid.setdefault(event["pid"], []).append(event)
    assert sorted(by_pid) == [1, 2]
    assert [e["args"]["id"] for e in by_pid[1]] == started
    assert [e["args"]["id"] for e in by_pid[2]] == ["lint", "spec-guard"]
    # The child's stages lie inside the subpipeline stage's span.
    checks = next(e for e in by_pid[1] if e["args"]["id"] == "checks")
    for event in by_pid[2]:
        assert checks["ts"] <= event["ts"]
        assert event["ts"] + event["dur"] <= checks["ts"] + checks["dur"] + 5_000
    lint = next(e for e in by_pid[2] if e["args"]["id"] == "lint")
    assert lint["dur"] >= 250_000  # it slept 0.3 s; microseconds
    hostile = next(e for e in by_pid[1] if e["args"]["id"] == "hostile")
    assert hostile["args"]["status"] == "failed"
    assert hostile["args"]["exit_code"] == 3
    assert document["otherData"]["run_id"] == sample_runs.ci


def test_a_resumed_run_marks_its_resume(sample_runs: SampleRuns) -> None:
    document = _trace(sample_runs, sample_runs.flaky)
    _check_structure(document)
    instants = [e for e in document["traceEvents"] if e["ph"] == "i"]
    assert [e["name"] for e in instants] == ["resume accepted"]
    assert instants[0]["args"]["reason"] == "retry <b>now</b>"
