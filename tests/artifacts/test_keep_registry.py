"""Registry artifacts a stage produces are kept with that stage's instance, whatever its outcome."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import RunFiles, command, pipeline, start_json

from .kept import cli_json, get_bytes, instance_dir, read

pytestmark = pytest.mark.integration

REGISTRY = {
    "artifact_types": {
        # Produced by the registry's word (producer) ...
        "report": {"producer": "build", "format": "json", "path": "out/report.json"},
        # ... and by the stage's own ``produces``.
        "notes": {"format": "text", "path": "out/notes[1].txt"},
        "never": {"producer": "broken", "format": "text", "path": "out/never.txt"},
    }
}
BROKEN = "mkdir -p out; {write}echo oops >&2; exit 3"
BUILD = (
    'mkdir -p out; printf \'{"run": "%s"}\' "$CODEX_ORCHESTRATOR_RUN_ID" > out/report.json; '
    "printf 'notes' > 'out/notes[1].txt'"
)


def write_project(tmp_path: Path) -> None:
    """Pipeline ok: build produces both, check consumes report. Pipeline bad: broken fails."""
    document: dict[str, Any] = {
        "defaultPipeline": "ok",
        "registry": REGISTRY,
        "pipelines": [
            pipeline(
                "ok",
                command("build", BUILD, produces=["notes"]),
                command("check", "cat out/report.json", needs=["build"], consumes=["report"]),
            ),
            pipeline("bad", command("broken", BROKEN.format(write=""))),
        ],
    }
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))


def set_command(tmp_path: Path, pipeline_index: int, shell: str) -> None:
    """Replace the first stage's command of one pipeline."""
    config = tmp_path / "codex.orchestrator.json"
    document = json.loads(config.read_text())
    document["pipelines"][pipeline_index]["stages"][0]["command"] = shell
    config.write_text(json.dumps(document))


def listed(project: Path, run: RunFiles, instance: str) -> dict[str, dict[str, Any]]:
    """``artifacts ls --run ID --instance X``: rows by path."""
    rows = cli_json(project, "artifacts", "ls", "--run", run.run_id, "--instance", instance)
    return {row["path"]: row for row in rows}


def test_produced_artifacts_are_kept_with_the_producer(tmp_path: Path) -> None:
    write_project(tmp_path)
    result, _, first = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    rows = listed(tmp_path, first, "01-build")
    assert set(rows) == {"out/report.json", "out/notes[1].txt"}
    report = f'{{"run": "{first.run_id}"}}'.encode()
    assert rows["out/report.json"]["sha256"] == hashlib.sha256(report).hexdigest()
    assert rows["out/report.json"]["mode"] == "archived"
    # The consumer keeps only what it made itself.
    assert listed(tmp_path, first, "02-check") == {}
    # A later run overwrites the file in the repository; the first run still has its own.
    result, _, second = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert get_bytes(tmp_path, first.run_id, "01-build/out/report.json").stdout == report
    fetched = get_bytes(tmp_path, second.run_id, "01-build/out/report.json")
    assert fetched.stdout == f'{{"run": "{second.run_id}"}}'.encode()
    assert get_bytes(tmp_path, first.run_id, "01-build/out/notes[1].txt").stdout == b"notes"
    metadata = read(instance_dir(first, "01-build") / "metadata.json")
    assert (metadata["files"], metadata["partial"], metadata["warnings"]) == (2, False, [])


def test_a_failed_producer_keeps_what_it_left(tmp_path: Path) -> None:
    write_project(tmp_path)
    result, _, run = start_json(tmp_path, "bad")
    assert result.returncode == 1
    assert run.manifest()["commands"][0]["status"] == "failed"
    # The artifact's file was never written: a warning, not a failure of keeping.
    metadata = read(instance_dir(run, "01-broken") / "metadata.json")
    assert metadata["status"] == "failed"
    assert metadata["partial"] is False
    assert [(w["path"], w["kind"]) for w in metadata["warnings"]] == [("out/never.txt", "no-match")]
    assert listed(tmp_path, run, "01-broken") == {}
    # Now the file exists when the producer fails: it is kept.
    set_command(tmp_path, 1, BROKEN.format(write="echo half > out/never.txt; "))
    result, _, run = start_json(tmp_path, "bad")
    assert result.returncode == 1
    assert set(listed(tmp_path, run, "01-broken")) == {"out/never.txt"}
    assert get_bytes(tmp_path, run.run_id, "01-broken/out/never.txt").stdout == b"half\n"


def test_an_invalid_artifact_is_kept_and_its_instance_failed(tmp_path: Path) -> None:
    write_project(tmp_path)
    set_command(tmp_path, 0, "mkdir -p out; printf 'not json' > out/report.json")
    result, _, run = start_json(tmp_path)
    assert result.returncode == 1
    commands = {c["id"]: c for c in run.manifest()["commands"]}
    assert commands["build"]["status"] == "failed"
    assert run.error("01-build")["reason"] == "artifact-invalid"
    # The invalid file is the evidence a reviewer needs: kept, and the instance says failed.
    assert get_bytes(tmp_path, run.run_id, "01-build/out/report.json").stdout == b"not json"
    metadata = read(instance_dir(run, "01-build") / "metadata.json")
    assert metadata["status"] == "failed"
