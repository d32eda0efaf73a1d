"""The benchmark's project: its codex.orchestrator.json, temp project dirs, run checks.

Both tools get the identical config file, so they run the identical commands.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STAGE_COUNT = 200
FLUSH_LINES = 200_000
SEQ_LINES = 2_000_000
TRUE_COMMAND = "true"
FLUSH_COMMAND = f'python3 -u -c "for i in range({FLUSH_LINES}): print(i, flush=True)"'
SEQ_COMMAND = f"seq 1 {SEQ_LINES}"
STAGE_COMMANDS = frozenset({TRUE_COMMAND, FLUSH_COMMAND, SEQ_COMMAND})
STDOUT_EVENT = b'"type":"command:stdout"'


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineSpec:
    """One benchmark pipeline: its id, its stages' command, and what a run must show."""

    pipeline_id: str
    command: str
    stages: int
    lines: int


STARTUP = PipelineSpec(pipeline_id="startup-1", command=TRUE_COMMAND, stages=1, lines=0)
STAGES = PipelineSpec(pipeline_id="stages-200", command=TRUE_COMMAND, stages=STAGE_COUNT, lines=0)
FLUSH = PipelineSpec(
    pipeline_id="lines-200k-flush", command=FLUSH_COMMAND, stages=1, lines=FLUSH_LINES
)
SEQ = PipelineSpec(pipeline_id="seq-2m", command=SEQ_COMMAND, stages=1, lines=SEQ_LINES)
# Per-stage overhead must stay flat as runs grow (ours only: theirs takes ~20 s a run).
STAGES_2000 = PipelineSpec(pipeline_id="stages-2000", command=TRUE_COMMAND, stages=2000, lines=0)
PIPELINES = (STARTUP, STAGES, FLUSH, SEQ, STAGES_2000)


def _pipeline_json(spec: PipelineSpec) -> dict[str, Any]:
    stages = [
        {"kind": "command", "id": f"s{n:03d}", "title": f"stage {n}", "command": spec.command}
        for n in range(1, spec.stages + 1)
    ]
    return {"id": spec.pipeline_id, "title": spec.pipeline_id, "stages": stages}


def config_text() -> str:
    """The codex.orchestrator.json both tools run."""
    config = {
        "defaultPipeline": STARTUP.pipeline_id,
        "pipelines": [_pipeline_json(spec) for spec in PIPELINES],
    }
    return json.dumps(config, indent=2) + "\n"


def make_project(directory: Path) -> Path:
    """Create a git-initialised project dir holding the benchmark config."""
    directory.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=directory, check=True)
    (directory / "codex.orchestrator.json").write_text(config_text(), encoding="utf-8")
    return directory


def clear_runs(project: Path) -> None:
    """Remove a project's run evidence (multi-GB for seq-2m if kept across repetitions)."""
    shutil.rmtree(project / ".runs", ignore_errors=True)


def parse_run_document(stdout: str) -> dict[str, Any] | None:
    """The last JSON object in ``stdout`` holding a ``run_id`` (log lines may precede it)."""
    decoder = json.JSONDecoder()
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(stdout) if char == "\n")
    for start in reversed(starts):
        if not stdout.startswith("{", start):
            continue
        try:
            document, _ = decoder.raw_decode(stdout, start)
        except ValueError:
            continue
        if isinstance(document, dict) and "run_id" in document:
            return document
    return None


def _count_stdout_events(log: Path) -> int:
    with log.open("rb") as stream:
        fast = sum(1 for line in stream if STDOUT_EVENT in line)
        stream.seek(0)
        if fast:
            return fast
        # Nothing matched the compact spelling: parse, in case the writer spaces its JSON.
        return sum(
            1
            for line in stream
            if line.strip() and json.loads(line).get("type") == "command:stdout"
        )


def check_our_run(project: Path, document: dict[str, Any] | None, spec: PipelineSpec) -> list[str]:
    """Problems with one of our runs: status, command count, stdout events vs lines printed."""
    if document is None:
        return ["stdout held no JSON document with a run_id"]
    manifest_path = project / str(document.get("manifest", ""))
    if not manifest_path.is_file():
        return [f"manifest missing: {manifest_path}"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    if manifest.get("status") != "succeeded":
        problems.append(f"run status {manifest.get('status')!r}, expected 'succeeded'")
    commands = manifest.get("commands", [])
    if len(commands) != spec.stages:
        problems.append(f"{len(commands)} commands in manifest, expected {spec.stages}")
    events = sum(
        _count_stdout_events(project / command["log_path"])
        for command in commands
        if command.get("log_path")
    )
    if events != spec.lines:
        problems.append(f"{events} command:stdout events, expected {spec.lines} lines")
    return problems
