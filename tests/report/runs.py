"""Real runs made by the real CLI, shared by the report tests (made once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_LINE = "<script>alert(1)</script>"
NOT_UTF8 = b"caf\xe9 \xff\xfe end"
TASK = "0101"

SAMPLE_CONFIG: dict[str, Any] = {
    "defaultPipeline": "ci",
    "pipelines": [
        {
            "id": "ci",
            "title": "CI",
            "stages": [
                {
                    "kind": "command",
                    "id": "build",
                    "title": "Build",
                    "command": "echo building; printf 'caf\\351 \\377\\376 end\\n'",
                },
                {"kind": "subpipeline", "id": "checks", "title": "Checks", "pipeline": "checks"},
                {
                    "kind": "command",
                    "id": "hostile",
                    "title": HOSTILE_TITLE,
                    "command": "echo '<script>alert(1)</script>'; printf 'caf\\351\\n'; "
                    "printf '\\033[31mred\\033[0m\\n' >&2; exit 3",
                },
                {"kind": "command", "id": "after", "title": "After", "command": "true"},
            ],
        },
        {
            "id": "checks",
            "title": "Checks",
            "stages": [
                {"kind": "command", "id": "lint", "title": "Lint", "command": "sleep 0.3; echo ok"},
                {
                    "kind": "command",
                    "id": "spec-guard",
                    "title": "Guard",
                    "command": "echo guarded",
                },
            ],
        },
        {
            "id": "slow",
            "title": "Slow",
            "stages": [
                {
                    "kind": "command",
                    "id": "optional",
                    "title": "Optional",
                    "command": "echo flaky >&2; exit 4",
                    "allowFailure": True,
                },
                {
                    "kind": "command",
                    "id": "hang",
                    "title": "Hang",
                    "command": "echo waiting; sleep 30",
                    "timeoutMs": 400,
                },
            ],
        },
        {
            "id": "flaky",
            "title": "Flaky",
            "stages": [
                {
                    "kind": "command",
                    "id": "first",
                    "title": "First",
                    "command": "test -f marker || { echo first try failed; touch marker; exit 1; }",
                },
                {"kind": "command", "id": "second", "title": "Second", "command": "echo done"},
            ],
        },
    ],
}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without anything that steers the orchestrator, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CODEX_ORCHESTRATOR_")
        and name not in ("MCP_RUNNER_TASK_ID", "GITHUB_STEP_SUMMARY")
    }
    env.update(extra or {})
    return env


def cli(
    project: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m codex_orchestrator ARGS`` in ``project``, output as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        env=clean_env(env),
        capture_output=True,
        timeout=120,
        check=False,
    )


def start(project: Path, *args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``start ARGS --format json``: its document (with ``exit_code`` and ``stderr`` added)."""
    result = cli(project, "start", *args, "--format", "json", env=env)
    document = orjson.loads(result.stdout)
    assert isinstance(document, dict), result
    return {**document, "exit_code": result.returncode, "stderr": result.stderr.decode()}


def write_config(project: Path, config: Mapping[str, Any]) -> None:
    """``codex.orchestrator.json`` at the project root."""
    (project / "codex.orchestrator.json").write_bytes(orjson.dumps(config))


def run_dir(project: Path, run_id: str, task: str = TASK) -> Path:
    """``.runs/<task>/cli/<run-id>`` (spelled out, as DESIGN.md lays it out)."""
    return project / ".runs" / task / "cli" / run_id


def manifest(project: Path, run_id: str) -> dict[str, Any]:
    """A run's manifest, parsed."""
    data = orjson.loads((run_dir(project, run_id) / "manifest.json").read_bytes())
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True, slots=True)
class SampleRuns:
    """One project with real runs: failed + subpipeline + hostile, timed out, resumed."""

    project: Path
    ci: str
    child: str
    slow: str
    flaky: str

    def report(self, run_id: str, report_format: str) -> bytes:
        """``report --run ID --format F`` on stdout (exit 0 asserted)."""
        result = cli(self.project, "report", "--run", run_id, "--format", report_format)
        assert result.returncode == 0, result.stderr
        assert result.stderr == b"", result.stderr
        return result.stdout


def make_sample_runs(project: Path) -> SampleRuns:
    """Run the sample pipelines with the real CLI."""
    write_config(project, SAMPLE_CONFIG)
    ci = start(project, "ci")
    assert ci["status"] == "failed", ci
    child = manifest(project, ci["run_id"])["child_runs"][0]["run_id"]
    slow = start(project, "slow")
    assert slow["status"] == "failed", slow
    flaky = start(project, "flaky")
    assert flaky["status"] == "failed", flaky
    resumed = cli(project, "resume", "--run", flaky["run_id"], "--reason", "retry <b>now</b>")
    assert resumed.returncode == 0, resumed.stderr
    return SampleRuns(
        project=project, ci=ci["run_id"], child=child, slow=slow["run_id"], flaky=flaky["run_id"]
    )
