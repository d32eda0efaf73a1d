"""Building projects, running the real CLI, and reading the evidence a run leaves.

Tests import this module as ``helpers`` (``tests/`` is on ``sys.path`` because
``tests/conftest.py`` lives there). Every path a test inspects is spelled out here
from DESIGN.md rather than taken from ``store.layout``, so the layout is tested, not
assumed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from codex_orchestrator.model import CommandRecord, RunManifest
from codex_orchestrator.schemas import manifest_schema
from codex_orchestrator.store.events import decode_output_event

DEFAULT_TASK = "0101"
RUN_ID_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ERROR_PREFIX = "codex-orchestrator: error: "
# A generous ceiling for one CLI invocation; the tests' commands take well under a second.
CLI_TIMEOUT_SECONDS = 60


# ---------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------


def command(stage_id: str, shell: str, **extra: Any) -> dict[str, Any]:
    """A ``command`` stage of ``codex.orchestrator.json`` (title = id unless given)."""
    stage: dict[str, Any] = {"kind": "command", "id": stage_id, "title": stage_id}
    stage["command"] = shell
    stage.update(extra)
    return stage


def subpipeline(stage_id: str, target: str, **extra: Any) -> dict[str, Any]:
    """A ``subpipeline`` stage."""
    stage: dict[str, Any] = {"kind": "subpipeline", "id": stage_id, "title": stage_id}
    stage["pipeline"] = target
    stage.update(extra)
    return stage


def pipeline(pipeline_id: str, *stages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A pipeline entry (title = id unless given)."""
    entry: dict[str, Any] = {"id": pipeline_id, "title": pipeline_id, "stages": list(stages)}
    entry.update(extra)
    return entry


def write_config(
    project: Path,
    *pipelines: dict[str, Any],
    default: str | None = None,
    stage_sets: Mapping[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """Write ``codex.orchestrator.json`` at the project root; the first pipeline is the default."""
    document: dict[str, Any] = {"pipelines": list(pipelines)}
    if pipelines:
        document["defaultPipeline"] = default or pipelines[0]["id"]
    if stage_sets:
        document["stageSets"] = dict(stage_sets)
    path = project / "codex.orchestrator.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return path


def tree(path: Path) -> set[str]:
    """Every entry below ``path`` (relative, POSIX), symlinks not followed."""
    if not path.exists():
        return set()
    return {entry.relative_to(path).as_posix() for entry in path.rglob("*")}


# ---------------------------------------------------------------------------
# Running the CLI as a user does
# ---------------------------------------------------------------------------


def run_cli_subprocess(
    project: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """``python -m codex_orchestrator ARGS`` in ``project``; output captured as text."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """stdout parsed whole: it must be exactly one JSON object (and nothing else)."""
    document = json.loads(result.stdout)
    assert isinstance(document, dict), result.stdout
    return document


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``codex-orchestrator: error: ...`` line on stderr (asserted), without prefix."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), result.stderr
    return lines[0].removeprefix(ERROR_PREFIX)


# ---------------------------------------------------------------------------
# Reading the evidence
# ---------------------------------------------------------------------------


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    """Every line of an NDJSON file as an object (each line must parse on its own)."""
    raw = path.read_bytes()
    assert raw.endswith(b"\n") or not raw, f"{path} does not end with a newline"
    return [orjson.loads(line) for line in raw.splitlines()]


def output_bytes(events: Iterable[Mapping[str, Any]], stream: str | None = None) -> bytes:
    """The exact bytes of a command's output rebuilt from its events (one stream or both)."""
    wanted = ("command:stdout", "command:stderr") if stream is None else (f"command:{stream}",)
    return b"".join(decode_output_event(event) for event in events if event["type"] in wanted)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = manifest_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_manifest(document: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` fits the shipped schema."""
    _validator().validate(document)


def manifest_errors(document: Mapping[str, Any]) -> list[str]:
    """Every schema violation of ``document``, as ``path: message`` strings."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator().iter_errors(document)
    ]


@dataclass(frozen=True, slots=True)
class RunFiles:
    """One run directory as DESIGN.md lays it out: ``.runs/<task>/cli/<run-id>/``."""

    project: Path
    task_id: str
    run_id: str

    @property
    def task_dir(self) -> Path:
        """``.runs/<task>``."""
        return self.project / ".runs" / self.task_id

    @property
    def run_dir(self) -> Path:
        """``.runs/<task>/cli/<run-id>``."""
        return self.task_dir / "cli" / self.run_id

    @property
    def manifest_path(self) -> Path:
        """``manifest.json``."""
        return self.run_dir / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` parsed."""
        data = orjson.loads(self.manifest_path.read_bytes())
        assert isinstance(data, dict)
        return data

    def events(self) -> list[dict[str, Any]]:
        """``runner.ndjson`` parsed."""
        return read_ndjson(self.run_dir / "runner.ndjson")

    def command_log(self, stem: str) -> Path:
        """``commands/<NN-slug>.ndjson``."""
        return self.run_dir / "commands" / f"{stem}.ndjson"

    def command_events(self, stem: str) -> list[dict[str, Any]]:
        """``commands/<NN-slug>.ndjson`` parsed."""
        return read_ndjson(self.command_log(stem))

    def error(self, stem: str) -> dict[str, Any]:
        """``errors/<NN-slug>.json`` parsed."""
        data = orjson.loads((self.run_dir / "errors" / f"{stem}.json").read_bytes())
        assert isinstance(data, dict)
        return data

    def metrics_lines(self) -> list[dict[str, Any]]:
        """``.runs/<task>/metrics.json`` (JSON Lines) parsed."""
        return read_ndjson(self.task_dir / "metrics.json")


def run_ids(project: Path, task: str = DEFAULT_TASK) -> list[str]:
    """The run directories of a task, oldest first."""
    cli_dir = project / ".runs" / task / "cli"
    if not cli_dir.is_dir():
        return []
    return sorted(entry.name for entry in cli_dir.iterdir() if entry.is_dir())


def run_files(project: Path, run_id: str, task: str = DEFAULT_TASK) -> RunFiles:
    """The files of one run."""
    return RunFiles(project, task, run_id)


def only_run(project: Path, task: str = DEFAULT_TASK) -> RunFiles:
    """The one run of a task (asserted)."""
    ids = run_ids(project, task)
    assert len(ids) == 1, ids
    return RunFiles(project, task, ids[0])


def start_json(
    project: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], RunFiles]:
    """``start ARGS --format json``: the process, its document and the run it made."""
    result = run_cli_subprocess(project, "start", *args, "--format", "json", env=env)
    document = json_document(result)
    return result, document, RunFiles(project, document["task_id"], document["run_id"])


def exec_json(
    project: Path, *argv: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], RunFiles]:
    """``exec --format json -- ARGV``: the process, its document and the run it made."""
    result = run_cli_subprocess(project, "exec", "--format", "json", "--", *argv, env=env)
    document = json_document(result)
    return result, document, RunFiles(project, document["task_id"], document["run_id"])


def sample_manifest(**changes: Any) -> RunManifest:
    """A small, valid manifest built in memory (two commands), with ``changes`` applied."""
    run = "2025-10-31T22-56-34-431Z-9574035c"
    base = RunManifest(
        task_id="0101",
        run_id=run,
        pipeline_id="ci",
        pipeline_title="CI",
        started_at="2025-10-31T22:56:34.431Z",
        updated_at="2025-10-31T22:56:34.431Z",
        artifact_root=f".runs/0101/cli/{run}",
        compat_path=f".runs/0101/mcp/{run}",
        log_path=f".runs/0101/cli/{run}/runner.ndjson",
        resume_token="sha256:" + "ab" * 32,
        commands=(
            CommandRecord(index=1, id="build", title="Build", command="make"),
            CommandRecord(index=2, id="test", title="Test", command="pytest"),
        ),
    )
    return base.replace(**changes)
