"""How stages run: environment, cwd, allowFailure, hints, stage sets, subpipelines, failure."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from helpers import (
    RunFiles,
    command,
    output_bytes,
    pipeline,
    run_files,
    start_json,
    subpipeline,
    validate_manifest,
    write_config,
)

pytestmark = pytest.mark.integration

RUN_VARIABLES = (
    "TASK_ID",
    "RUN_ID",
    "PIPELINE_ID",
    "MANIFEST_PATH",
    "RUN_DIR",
    "RUNS_DIR",
    "ROOT",
    "STAGE_ID",
)
PRINT_ENV = (
    " ".join(f'echo "{name}=${{CODEX_ORCHESTRATOR_{name}}}";' for name in RUN_VARIABLES)
    + ' echo "MINE=$MINE"'
)


def _stdout_lines(run: RunFiles, stem: str) -> list[str]:
    return output_bytes(run.command_events(stem), "stdout").decode().splitlines()


def test_stage_environment(tmp_path: Path) -> None:
    """Every run variable is set for the stage, over whatever the stage's env says."""
    overrides = {f"CODEX_ORCHESTRATOR_{name}": "from-config" for name in RUN_VARIABLES}
    write_config(
        tmp_path,
        pipeline("env", command("show env", PRINT_ENV, env={**overrides, "MINE": "mine"})),
    )
    result, _, run = start_json(tmp_path, "--task", "env-task")
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in _stdout_lines(run, "01-show-env"))
    root = tmp_path.resolve()
    assert seen == {
        "TASK_ID": "env-task",
        "RUN_ID": run.run_id,
        "PIPELINE_ID": "env",
        "MANIFEST_PATH": str(root / ".runs" / "env-task" / "cli" / run.run_id / "manifest.json"),
        "RUN_DIR": str(root / ".runs" / "env-task" / "cli" / run.run_id),
        "RUNS_DIR": str(root / ".runs"),
        "ROOT": str(root),
        "STAGE_ID": "show env",
        "MINE": "mine",
    }


def test_stage_runs_in_its_cwd_relative_to_the_root(tmp_path: Path) -> None:
    """``cwd`` is relative to the repo root; without it the stage runs at the root."""
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    write_config(
        tmp_path,
        pipeline("cwd", command("inside", "pwd -P", cwd="sub/dir"), command("root", "pwd -P")),
    )
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert _stdout_lines(run, "01-inside") == [str((tmp_path / "sub" / "dir").resolve())]
    assert _stdout_lines(run, "02-root") == [str(tmp_path.resolve())]


def test_missing_cwd_is_a_spawn_error(tmp_path: Path) -> None:
    """A cwd that does not exist fails the stage with reason ``spawn-error``."""
    write_config(tmp_path, pipeline("cwd", command("nowhere", "true", cwd="missing")))
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status_detail"] == "stage:nowhere:failed"
    error = run.error("01-nowhere")
    assert error["reason"] == "spawn-error"
    assert "missing" in error["details"]["message"]
    (record,) = run.manifest()["commands"]
    assert (record["status"], record["exit_code"]) == ("failed", None)


def test_allow_failure_skips_the_stage_and_the_run_goes_on(tmp_path: Path) -> None:
    """allowFailure: stage ``skipped``, error file ``command-allow-failure``, run succeeds."""
    write_config(
        tmp_path,
        pipeline(
            "lenient",
            command("flaky", "echo oops >&2; exit 5", allowFailure=True),
            command("after", "echo after"),
        ),
    )
    result, document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (document["status"], document["status_detail"]) == ("succeeded", None)
    flaky, after = run.manifest()["commands"]
    assert (flaky["status"], flaky["exit_code"]) == ("skipped", 5)
    assert flaky["error_file"] == f"{run.manifest()['artifact_root']}/errors/01-flaky.json"
    assert after["status"] == "succeeded"
    error = run.error("01-flaky")
    assert error["reason"] == "command-allow-failure"
    assert error["details"]["stderr_tail"] == "oops\n"
    (line,) = run.metrics_lines()
    assert (line["commands_passed"], line["commands_failed"], line["commands_skipped"]) == (1, 0, 1)


def test_summary_hint_replaces_the_success_summary_only(tmp_path: Path) -> None:
    """A succeeded stage's summary is its hint; a failed one says how it failed."""
    write_config(
        tmp_path,
        pipeline(
            "hints",
            command("good", "echo noise", summaryHint="Coverage report in htmlcov/"),
            command("plain", "echo last line"),
            command("bad", "exit 2", summaryHint="never shown"),
        ),
    )
    _, _, run = start_json(tmp_path)
    good, plain, bad = run.manifest()["commands"]
    assert good["summary"] == "Coverage report in htmlcov/"
    assert plain["summary"] == "last line"
    assert bad["summary"] == "Exited with code 2"


def test_stage_sets_expand_in_place(tmp_path: Path) -> None:
    """A stage-set entry becomes its stages, numbered in order, nested sets included."""
    write_config(
        tmp_path,
        pipeline(
            "ci",
            command("build", "true"),
            {"kind": "stage-set", "ref": "checks"},
            command("package", "true"),
        ),
        stage_sets={
            "checks": [command("lint", "true"), {"kind": "stage-set", "ref": "deep"}],
            "deep": [command("types", "true")],
        },
    )
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    records = run.manifest()["commands"]
    assert [(r["index"], r["id"], r["status"]) for r in records] == [
        (1, "build", "succeeded"),
        (2, "lint", "succeeded"),
        (3, "types", "succeeded"),
        (4, "package", "succeeded"),
    ]
    stems = sorted(path.stem for path in (run.run_dir / "commands").iterdir())
    assert stems == ["01-build", "02-lint", "03-types", "04-package"]


def test_failed_stage_stops_the_run_and_later_stages_stay_pending(tmp_path: Path) -> None:
    """After a failure nothing else runs: later stages are ``pending`` with no evidence."""
    marker = tmp_path / "ran"
    write_config(
        tmp_path,
        pipeline(
            "ci",
            command("one", "true"),
            command("two", "exit 9", title="Second"),
            command("three", f"touch {marker}"),
            command("four", f"touch {marker}"),
        ),
    )
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status_detail"] == "stage:two:failed"
    assert document["summary"].splitlines()[0] == "Stage 'Second' failed with exit code 9."
    statuses = [record["status"] for record in run.manifest()["commands"]]
    assert statuses == ["succeeded", "failed", "pending", "pending"]
    assert not marker.exists()
    assert sorted(path.name for path in (run.run_dir / "commands").iterdir()) == [
        "01-one.ndjson",
        "02-two.ndjson",
    ]


def test_stage_timeout_is_enforced(tmp_path: Path) -> None:
    """timeoutMs ends the command (TERM) and fails the stage with ``command-timeout``."""
    write_config(
        tmp_path,
        pipeline("slow", command("sleepy", "echo started; exec sleep 30", timeoutMs=200)),
    )
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status_detail"] == "stage:sleepy:failed"
    (record,) = run.manifest()["commands"]
    assert (record["status"], record["exit_code"], record["signal"]) == ("failed", None, "SIGTERM")
    assert record["summary"] == "Timed out after 200ms"
    error = run.error("01-sleepy")
    assert error["reason"] == "command-timeout"
    assert error["details"]["stdout_tail"] == "started\n"


class Family:
    """A parent run whose subpipelines succeed, fail optionally, and finally fail for real."""

    def __init__(self, project: Path) -> None:
        write_config(
            project,
            pipeline(
                "parent",
                command("before", "echo before"),
                subpipeline("docs", "docs", title="Docs"),
                subpipeline("extras", "broken", optional=True),
                command("middle", "echo middle"),
                subpipeline("release", "broken"),
                command("after", "echo after"),
            ),
            pipeline("docs", command("render", "echo rendered")),
            pipeline("broken", command("explode", "exit 4"), command("unreached", "true")),
        )
        self.result, self.document, self.run = start_json(project)
        self.manifest = self.run.manifest()
        self.records = {record["id"]: record for record in self.manifest["commands"]}
        self.children = {child["run_id"]: child for child in self.manifest["child_runs"]}


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Family:
    """One parent run with three child runs."""
    return Family(tmp_path_factory.mktemp("family"))


def test_subpipelines_run_as_child_runs(family: Family) -> None:
    """Each subpipeline stage is a child run: linked both ways, listed in child_runs[]."""
    assert len(family.children) == 3
    for stage_id, pipeline_id, status in (
        ("docs", "docs", "succeeded"),
        ("extras", "broken", "failed"),
        ("release", "broken", "failed"),
    ):
        record = family.records[stage_id]
        assert record["kind"] == "subpipeline"
        assert record["command"] is None
        child_id = record["sub_run_id"]
        child_files = run_files(family.run.project, child_id)
        assert family.children[child_id] == {
            "run_id": child_id,
            "pipeline_id": pipeline_id,
            "status": status,
            "manifest": f".runs/0101/cli/{child_id}/manifest.json",
        }
        child = child_files.manifest()
        validate_manifest(child)
        assert child["parent_run_id"] == family.run.run_id
        assert (child["pipeline_id"], child["status"]) == (pipeline_id, status)
        assert child["metrics_recorded"] is True
        assert os.readlink(child_files.task_dir / "mcp" / child_id) == f"../cli/{child_id}"
    validate_manifest(family.manifest)


def test_child_output_is_in_the_child_run(family: Family) -> None:
    """A child's command output lives in the child's files, not the parent's."""
    child_id = family.records["docs"]["sub_run_id"]
    child = run_files(family.run.project, child_id)
    assert output_bytes(child.command_events("01-render"), "stdout") == b"rendered\n"
    parent_output = output_bytes(family.run.events())
    assert b"rendered" not in parent_output


def test_optional_failing_subpipeline_is_skipped_and_the_run_goes_on(family: Family) -> None:
    """An optional child that fails leaves its stage ``skipped``; the next stage still runs."""
    extras = family.records["extras"]
    assert extras["status"] == "skipped"
    assert extras["summary"] == "Sub-pipeline 'broken' failed"
    assert family.records["middle"]["status"] == "succeeded"


def test_required_failing_subpipeline_fails_the_parent(family: Family) -> None:
    """A required child's failure fails the parent; later stages stay pending."""
    assert family.result.returncode == 1
    assert family.document["status"] == "failed"
    assert family.document["status_detail"] == "subpipeline:broken:failed"
    assert family.document["summary"].splitlines()[0] == "Sub-pipeline 'broken' failed."
    assert family.records["release"]["status"] == "failed"
    assert family.records["after"]["status"] == "pending"


def test_each_run_of_the_family_has_its_metrics_line(family: Family) -> None:
    """Parent and children each add one line; children name their parent."""
    lines = {line["run_id"]: line for line in family.run.metrics_lines()}
    assert set(lines) == {family.run.run_id, *family.children}
    for child_id in family.children:
        assert lines[child_id]["parent_run_id"] == family.run.run_id
    parent = lines[family.run.run_id]
    assert parent["child_runs"] == 3
    assert (parent["commands_passed"], parent["commands_failed"], parent["commands_skipped"]) == (
        3,
        1,
        1,
    )


def test_subpipeline_end_event_names_the_child(family: Family) -> None:
    """The parent's command:end for a subpipeline carries the child's run id and timing."""
    ends = {
        event["index"]: event for event in family.run.events() if event["type"] == "command:end"
    }
    docs = family.records["docs"]
    end = ends[docs["index"]]
    assert (end["status"], end["sub_run_id"]) == ("succeeded", docs["sub_run_id"])
    assert isinstance(end["duration_ms"], int)
    assert isinstance(docs["duration_ms"], int)


def test_progress_names_child_runs(family: Family) -> None:
    """stderr progress shows each child run starting under its parent."""
    for child_id in family.children:
        assert f"run {child_id}: pipeline " in family.result.stderr
        assert f"(child of {family.run.run_id})" in family.result.stderr
    assert orjson.loads(family.result.stdout) == family.document
