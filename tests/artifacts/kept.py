"""Reading kept artifacts as LAYERS.md section 2 lays them out (spelled out, not imported)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from helpers import RunFiles, json_document, run_cli_subprocess


def artifacts_dir(run: RunFiles) -> Path:
    """``<run dir>/artifacts``: the default ``artifacts_path``."""
    return run.run_dir / "artifacts"


def instance_dir(run: RunFiles, *stems: str) -> Path:
    """``instances/<NN-slug>[/instances/<MM-slug>...]``."""
    path = artifacts_dir(run) / "instances" / stems[0]
    for stem in stems[1:]:
        path = path / "instances" / stem
    return path


def read(path: Path) -> Any:
    """A JSON file parsed."""
    return json.loads(path.read_bytes())


def index_files(run: RunFiles) -> dict[tuple[str, str], dict[str, Any]]:
    """``index.json`` rows keyed by (instance, path)."""
    document = read(artifacts_dir(run) / "index.json")
    return {(row["instance"], row["path"]): row for row in document["files"]}


def cli_json(project: Path, *args: str, code: int = 0) -> Any:
    """``ARGS --format json``: exit code asserted, stdout parsed."""
    result = run_cli_subprocess(project, *args, "--format", "json")
    assert result.returncode == code, result.stderr
    return json.loads(result.stdout)


def get_bytes(project: Path, run_id: str, name: str) -> subprocess.CompletedProcess[bytes]:
    """``artifacts get --run ID NAME``: raw bytes on stdout."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", "artifacts", "get", "--run", run_id, name],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )


def collect(project: Path, run_id: str, code: int = 0) -> dict[str, Any]:
    """``artifacts collect --run ID --format json``."""
    args = ("artifacts", "collect", "--run", run_id, "--format", "json")
    result = run_cli_subprocess(project, *args)
    assert result.returncode == code, result.stderr
    return json_document(result)
