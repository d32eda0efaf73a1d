"""``metrics summary``: the seed's figures, ours, bad lines, resumed runs, big files streamed."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.legacy.metrics_stats import percentile
from codex_orchestrator.legacy.metrics_summary import (
    MAX_PARSE_ERRORS,
    SummaryRequest,
    summarize_task,
)
from codex_orchestrator.legacy.migrate import MigrateRequest, migrate

from .trees import AGENTS, LegacyTree

SEED_KEYS = {
    "generated_at",
    "task_id",
    "metrics_file",
    "entries_total",
    "entries_succeeded",
    "entries_failed",
    "success_rate",
    "guardrail_coverage",
    "average_duration_seconds",
    "parse_errors",
}


def line(run_id: str, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    """A metrics line as the new runner writes it."""
    return {
        "run_id": run_id,
        "task_id": "0001",
        "pipeline_id": "diagnostics",
        "parent_run_id": None,
        "started_at": "2025-11-01T10:00:00.000Z",
        "completed_at": "2025-11-01T10:00:10.000Z",
        "duration_seconds": 10.0,
        "status": status,
        "commands_passed": 3,
        "commands_failed": 0,
        "commands_skipped": 0,
        "guardrails_present": True,
        "child_runs": 0,
        "artifact_path": f".runs/0001/cli/{run_id}",
        "recorded_at": "2025-11-01T10:00:10.001Z",
        "resources": {"cpu_seconds": 1.5, "peak_rss_bytes": 1000},
        **fields,
    }


def summarize(root: Path, task: str | None = "0001") -> dict[str, Any]:
    result = summarize_task(SummaryRequest(root=root, task=task))
    written = json.loads(result.path.read_bytes())
    assert written == result.document
    return result.document


def test_seed_fields_and_their_meaning(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.metrics(
        "0001",
        [
            line("r1", duration_seconds=10),
            line("r2", "failed", guardrails_present=False, duration_seconds=20),
            line("r3", "cancelled", duration_seconds=30),
            line("r4", duration_seconds=40, guardrails_present=False),
        ],
    )

    summary = summarize(tmp_path)

    assert set(summary) >= SEED_KEYS
    assert summary["task_id"] == "0001"
    assert summary["metrics_file"] == ".runs/0001/metrics.json"
    assert summary["entries_total"] == 4
    assert summary["entries_succeeded"] == 2
    assert summary["entries_failed"] == 1
    assert summary["entries_cancelled"] == 1
    assert summary["success_rate"] == 0.5
    assert summary["guardrail_coverage"] == 0.5
    assert summary["average_duration_seconds"] == 25.0
    assert summary["parse_errors"] == []
    assert (tmp_path / ".runs" / "0001" / "metrics-summary.json").is_file()
    assert not list((tmp_path / ".runs" / "0001").glob(".metrics-summary*"))


def test_status_counts_durations_pipelines_and_times(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    legacy_tree.metrics(
        "0001",
        [
            line("a", duration_seconds=1, started_at="2025-11-01T09:00:00.000Z"),
            line("b", "failed", duration_seconds=2, pipeline_id="build"),
            line("c", "cancelled", duration_seconds=3, completed_at="2025-11-03T00:00:00.000Z"),
            line("d", "in_progress", duration_seconds=None, pipeline_id="build"),
            line("e", duration_seconds=100),
        ],
    )

    summary = summarize(tmp_path)

    assert summary["status_counts"] == {
        "succeeded": 2,
        "failed": 1,
        "cancelled": 1,
        "in_progress": 1,
    }
    assert summary["durations_counted"] == 4
    assert summary["duration_p50_seconds"] == 2.5
    assert summary["duration_p95_seconds"] == pytest.approx(85.45)  # 3 + (100 - 3) * 0.85
    assert summary["duration_max_seconds"] == 100
    assert summary["first_run_at"] == "2025-11-01T09:00:00.000Z"
    assert summary["last_run_at"] == "2025-11-03T00:00:00.000Z"
    build = summary["pipelines"]["build"]
    assert build["entries_total"] == 2
    assert build["entries_failed"] == 1
    assert build["success_rate"] == 0.0
    assert build["average_duration_seconds"] == 2.0
    assert summary["pipelines"]["diagnostics"]["entries_total"] == 3


def test_garbage_lines_are_reported_and_not_counted(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    legacy_tree.metrics(
        "0001",
        [
            json.dumps(line("ok")) + "\n",
            "not json at all\n",
            "[1, 2, 3]\n",
            '"a string"\n',
            "null\n",
            '{"run_id": "cut-off-by-a-crash", "sta\n',
            b"\xff\xfe\x00 binary\n",
            "\n",
            "   \n",
            json.dumps(line("ok2", "failed")),  # last line without newline
        ],
    )

    summary = summarize(tmp_path)

    assert summary["entries_total"] == 2
    assert summary["parse_errors_total"] == 6
    assert [error["line"] for error in summary["parse_errors"]] == [2, 3, 4, 5, 6, 7]
    assert summary["parse_errors"][0]["raw"] == "not json at all"
    assert "not a JSON object (list)" in summary["parse_errors"][1]["error"]
    assert "not a JSON object (null)" in summary["parse_errors"][3]["error"]
    assert all(set(error) == {"line", "error", "raw"} for error in summary["parse_errors"])


def test_latest_line_of_a_resumed_run_counts(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.metrics(
        "0001",
        [
            line("resumed", "failed", duration_seconds=5, guardrails_present=False),
            line("other", duration_seconds=1),
            line("resumed", "succeeded", duration_seconds=7),
        ],
    )

    summary = summarize(tmp_path)

    assert summary["entries_total"] == 2
    assert summary["entries_succeeded"] == 2
    assert summary["entries_failed"] == 0
    assert summary["guardrail_coverage"] == 1.0
    assert summary["average_duration_seconds"] == 4.0
    assert summary["lines_superseded"] == 1


def test_empty_file_gives_nulls(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.metrics("0001", [])

    summary = summarize(tmp_path)

    assert summary["entries_total"] == 0
    assert summary["success_rate"] is None
    assert summary["guardrail_coverage"] is None
    assert summary["average_duration_seconds"] is None
    assert summary["duration_p95_seconds"] is None
    assert summary["first_run_at"] is None
    assert summary["pipelines"] == {}


@pytest.mark.parametrize(
    ("value", "counted"),
    [
        (-1, False),
        ("NaN", False),
        ("Infinity", False),
        (True, False),
        (None, False),
        ("oops", False),
        ({"s": 1}, False),
        ("12.5", True),
        (0, True),
    ],
)
def test_only_finite_non_negative_durations_count(
    legacy_tree: LegacyTree, tmp_path: Path, value: Any, counted: bool
) -> None:
    legacy_tree.metrics("0001", [line("a", duration_seconds=value), line("b", duration_seconds=3)])

    summary = summarize(tmp_path)

    assert summary["durations_counted"] == (2 if counted else 1)
    assert summary["entries_total"] == 2


def test_legacy_lines_without_pipeline_take_it_from_manifests(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    legacy_tree.agents_sdk_run("0001", AGENTS)
    legacy = {
        "run_id": AGENTS,
        "task_id": "0001",
        "started_at": "2025-10-18T18:26:16.689Z",
        "completed_at": "2025-10-18T18:27:10.396Z",
        "duration_seconds": 53.707,
        "status": "succeeded",
        "commands_passed": 4,
        "commands_failed": 0,
        "guardrails_present": True,
        "artifact_path": f".runs/0001/mcp/{AGENTS}",
        "recorded_at": "2025-10-18T18:27:10.397Z",
    }
    gone = {**legacy, "run_id": "2025-10-18T18-30-06-976Z-41083", "status": "failed"}
    legacy_tree.metrics("0001", [legacy, gone, line("new")])

    before = summarize(tmp_path)
    migrate(MigrateRequest(root=tmp_path, task="0001", run_id=None, dry_run=False))
    after = summarize(tmp_path)

    for summary in (before, after):
        assert summary["entries_total"] == 3
        assert set(summary["pipelines"]) == {"legacy:agents-sdk", "unknown", "diagnostics"}
        assert summary["pipelines"]["legacy:agents-sdk"]["entries_succeeded"] == 1
    assert {k: v for k, v in before.items() if k != "generated_at"} == {
        k: v for k, v in after.items() if k != "generated_at"
    }


def test_missing_metrics_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no metrics file"):
        summarize_task(SummaryRequest(root=tmp_path, task="0001"))

    assert not (tmp_path / ".runs").exists()


def test_task_from_environment(
    legacy_tree: LegacyTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy_tree.metrics("0042", [line("a")])
    monkeypatch.setenv("MCP_RUNNER_TASK_ID", "0042")

    assert summarize(tmp_path, task=None)["task_id"] == "0042"


def test_parse_errors_are_capped_but_counted(legacy_tree: LegacyTree, tmp_path: Path) -> None:
    legacy_tree.metrics("0001", ["garbage\n"] * (MAX_PARSE_ERRORS + 50) + [json.dumps(line("a"))])

    summary = summarize(tmp_path)

    assert len(summary["parse_errors"]) == MAX_PARSE_ERRORS
    assert summary["parse_errors_total"] == MAX_PARSE_ERRORS + 50
    assert summary["entries_total"] == 1


def test_an_overlong_line_is_skipped_in_bounded_memory(
    legacy_tree: LegacyTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_orchestrator.legacy import metrics_lines

    monkeypatch.setattr(metrics_lines, "MAX_LINE_BYTES", 1024)
    huge = '{"run_id": "huge", "pad": "' + "x" * 10_000 + '"}\n'
    legacy_tree.metrics("0001", [huge, json.dumps(line("small")) + "\n"])

    summary = summarize(tmp_path)

    assert summary["entries_total"] == 1
    assert summary["parse_errors"][0]["line"] == 1
    assert "longer than 1024 bytes" in summary["parse_errors"][0]["error"]
    assert len(summary["parse_errors"][0]["raw"]) <= 503


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
@settings(max_examples=200)
def test_percentiles_lie_between_min_and_max(values: list[float]) -> None:
    ordered = sorted(values)

    p50, p95 = percentile(ordered, 0.5), percentile(ordered, 0.95)

    assert p50 is not None
    assert p95 is not None
    assert ordered[0] <= p50 <= p95 <= ordered[-1]
    assert percentile(ordered, 1.0) == ordered[-1]


def write_large(path: Path, lines: int, runs: int) -> int:
    padding = "p" * 300  # fields the summary does not keep
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as stream:
        for index in range(lines):
            run_id = f"2025-11-01T10-00-00-000Z-{index % runs:08x}"
            entry = line(run_id, "failed" if index % 7 == 0 else "succeeded")
            entry["duration_seconds"] = index % 1000
            entry["notes"] = padding
            stream.write(json.dumps(entry) + "\n")
    return path.stat().st_size


def peak_memory_of_summary(root: Path) -> tuple[dict[str, Any], int]:
    tracemalloc.start()
    try:
        summary = summarize(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return summary, peak


@pytest.mark.slow
def test_a_large_file_is_streamed_in_memory_bounded_by_runs(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    size = write_large(legacy_tree.runs / "0001" / "metrics.json", 200_000, 5000)

    summary, peak = peak_memory_of_summary(tmp_path)

    assert summary["entries_total"] == 5000
    assert summary["lines_superseded"] == 195_000
    assert size > 100 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte file"


@pytest.mark.slow
def test_memory_for_distinct_runs_stays_well_below_the_file_size(
    legacy_tree: LegacyTree, tmp_path: Path
) -> None:
    size = write_large(legacy_tree.runs / "0001" / "metrics.json", 200_000, 200_000)

    summary, peak = peak_memory_of_summary(tmp_path)

    assert summary["entries_total"] == 200_000
    assert peak < size / 2, f"peak {peak} bytes for a {size}-byte file"


@pytest.mark.integration
def test_summary_numbers_are_written_at_full_precision(tmp_path: Path) -> None:
    """7 of 12 succeeded: 0.5833333333333334, as the TypeScript script writes it."""
    import subprocess
    import sys

    lines = [
        line(f"run-{n:02d}", "succeeded" if n < 7 else "failed", duration_seconds=0.1 * (n + 1))
        for n in range(12)
    ]
    task_dir = tmp_path / ".runs" / "0001"
    task_dir.mkdir(parents=True)
    (task_dir / "metrics.json").write_text("".join(json.dumps(x) + "\n" for x in lines))

    result = subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", "metrics", "summary", "--task", "0001"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    written = json.loads((task_dir / "metrics-summary.json").read_text())
    assert written["success_rate"] == 0.5833333333333334
    durations = [0.1 * (n + 1) for n in range(12)]
    total = 0.0
    for value in durations:
        total += value
    assert written["average_duration_seconds"] == total / 12
    assert written["duration_max_seconds"] == durations[-1] == 1.2000000000000002
