"""A report of a run still in progress: the running stage is shown as running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson

from .runs import clean_env, cli, write_config

DEADLINE_SECONDS = 60


def _running_run(project: Path) -> str:
    """The id of the run once its second stage is running."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        for manifest in (project / ".runs").glob("*/cli/*/manifest.json"):
            try:
                data = orjson.loads(manifest.read_bytes())
            except orjson.JSONDecodeError:
                continue
            if data["commands"][1]["status"] == "running":
                return str(data["run_id"])
        time.sleep(0.05)
    raise AssertionError("the stage never started")


def test_running_stage_in_every_format(tmp_path: Path) -> None:
    stages = [
        {"kind": "command", "id": "quick", "title": "Quick", "command": "echo done"},
        {"kind": "command", "id": "slow", "title": "Slow", "command": "sleep 60"},
    ]
    write_config(
        tmp_path,
        {"defaultPipeline": "p", "pipelines": [{"id": "p", "title": "P", "stages": stages}]},
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_id = _running_run(tmp_path)
        junit = cli(tmp_path, "report", "--run", run_id, "--format", "junit")
        assert junit.returncode == 0, junit.stderr
        suite = ET.fromstring(junit.stdout).find("testsuite")  # noqa: S314 - our own output
        assert suite is not None
        assert suite.get("errors") == "1"
        slow = suite.find("testcase[@name='slow']/error")
        assert slow is not None
        assert slow.get("message") == "did not finish"
        page = cli(tmp_path, "report", "--run", run_id).stdout.decode()
        assert '<body data-status="in_progress">' in page
        assert 'data-status="running"' in page
        assert "bar st-running" in page  # drawn up to now
        markdown = cli(tmp_path, "report", "--run", run_id, "--format", "markdown").stdout
        assert "⏳ running".encode() in markdown
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=DEADLINE_SECONDS) == 130
