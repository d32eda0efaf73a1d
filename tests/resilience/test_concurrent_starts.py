"""Many ``start``s on one task, and a metrics file a crash left without its last newline."""

from __future__ import annotations

import orjson
import pytest

from .helpers import Project, command_stage, manifest_of, read_ndjson

pytestmark = pytest.mark.integration

STARTS = 8
# A long pipeline id makes each metrics line several KiB, so a torn append would show.
LONG_ID = "pipeline-" + "x" * 4000


def test_simultaneous_starts_get_their_own_directory_and_whole_metrics_line(
    project: Project,
) -> None:
    project.pipeline(command_stage("work", "echo $CODEX_ORCHESTRATOR_RUN_ID"), pipeline_id=LONG_ID)

    runners = [project.spawn("start", "--format", "json") for _ in range(STARTS)]
    codes = [runner.wait() for runner in runners]

    assert codes == [0] * STARTS, [r.stderr for r in runners]
    documents = [orjson.loads(runner.stdout) for runner in runners]
    run_ids = {document["run_id"] for document in documents}
    assert len(run_ids) == STARTS
    dirs = project.run_dirs()
    assert {d.name for d in dirs} == run_ids
    for run_dir in dirs:
        manifest = manifest_of(run_dir)
        assert manifest["run_id"] == run_dir.name
        assert manifest["status"] == "succeeded"
        # Each run's stage saw its own run id: no run wrote into another's directory.
        events = read_ndjson(run_dir / "commands" / "01-work.ndjson")
        printed = [e["data"] for e in events if e["type"] == "command:stdout"]
        assert printed == [run_dir.name]
    raw = project.metrics_file.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.splitlines()
    assert len(lines) == STARTS
    entries = [orjson.loads(line) for line in lines]
    assert sorted(e["run_id"] for e in entries) == sorted(run_ids)
    assert {e["pipeline_id"] for e in entries} == {LONG_ID}
    assert {e["status"] for e in entries} == {"succeeded"}


def test_a_metrics_line_that_lost_its_newline_is_repaired_before_the_next_append(
    project: Project,
) -> None:
    project.pipeline(command_stage("work", "true"))
    broken = b'{"run_id":"2025-01-01T00-00-00-000Z-deadbeef","status":"succ'
    project.metrics_file.parent.mkdir(parents=True)
    project.metrics_file.write_bytes(b'{"run_id":"older","status":"failed"}\n' + broken)

    result = project.cli("start")

    assert result.returncode == 0, result.stderr
    raw = project.metrics_file.read_bytes()
    lines = raw.split(b"\n")
    assert lines[0] == b'{"run_id":"older","status":"failed"}'
    assert lines[1] == broken  # kept as it was, on a line of its own
    assert lines[3] == b""  # the file ends with a newline
    entry = orjson.loads(lines[2])
    assert entry["run_id"] == project.only_run().name
    assert entry["status"] == "succeeded"
    summary = project.cli("metrics", "summary", "--format", "json")
    assert summary.returncode == 0, summary.stderr
    document = orjson.loads(summary.stdout)
    assert document["entries_total"] == 2
    assert document["parse_errors_total"] == 1
