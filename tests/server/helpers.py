"""Helpers for the server tests: a project whose runs the real CLI starts, a real server."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

WAIT_SECONDS = 60.0


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file parsed (the test asserts it is an object)."""
    data = orjson.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


@dataclass
class Project:
    """A project directory with a config; runs are started with the real CLI."""

    root: Path

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """``python -m codex_orchestrator ARGS`` to completion."""
        return subprocess.run(
            [sys.executable, "-m", "codex_orchestrator", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, pipeline_id: str) -> str:
        """Run a pipeline to its end; its run id."""
        result = self.cli("start", pipeline_id, "--format", "json")
        return str(orjson.loads(result.stdout)["run_id"])

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        """``python -m codex_orchestrator ARGS`` in the background."""
        return subprocess.Popen(
            [sys.executable, "-m", "codex_orchestrator", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    @property
    def cli_dir(self) -> Path:
        """``.runs/0101/cli``."""
        return self.root / ".runs" / "0101" / "cli"

    def run_dir(self, run_id: str) -> Path:
        """One run's directory."""
        return self.cli_dir / run_id

    def newest_run(self) -> str | None:
        """The newest run's id, if any."""
        names = sorted(p.name for p in self.cli_dir.glob("*")) if self.cli_dir.is_dir() else []
        return names[-1] if names else None


@dataclass
class Server:
    """A real ``serve`` process on a free loopback port."""

    process: subprocess.Popen[bytes]
    url: str


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C a ``serve`` process as a user would; kill it if it will not end."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
