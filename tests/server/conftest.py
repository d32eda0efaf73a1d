"""Fixtures for the server tests: a project with runs, a real ``serve`` process."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import command, pipeline, write_config

from .helpers import Project, Server, stop_server


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project whose pipelines print, fail and sleep."""
    write_config(
        tmp_path,
        pipeline(
            "ok",
            command(
                "build",
                'echo building; echo warn >&2; mkdir -p "$CODEX_ORCHESTRATOR_WORKSPACE/out"; '
                'echo "hello kept world" > "$CODEX_ORCHESTRATOR_WORKSPACE/out/report.txt"',
            ),
            command("test", "printf 'one\\ntwo\\nthree\\n'"),
        ),
        pipeline("broken", command("fails", "echo boom; exit 3")),
        pipeline(
            "slow",
            command("first", "echo first-line"),
            command(
                "wait",
                'echo partway > "$CODEX_ORCHESTRATOR_WORKSPACE/progress.txt"; '
                "echo waiting; sleep 3; echo woke",
            ),
        ),
    )
    return Project(tmp_path)


@pytest.fixture
def finished_run(project: Project) -> str:
    """A run of ``ok`` that succeeded."""
    return project.start("ok")


@pytest.fixture
def start_server(project: Project) -> Iterator[Callable[..., Server]]:
    """Start ``serve --port 0 ARGS`` and learn its URL from its first line."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        process = subprocess.Popen(
            [sys.executable, "-m", "codex_orchestrator", "serve", "--port", "0", *args],
            cwd=project.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        started.append(process)
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        match = re.search(r"on (http://\S+/) ", line)
        assert match, f"serve did not say where it listens: {line!r}"
        return Server(process=process, url=match.group(1).rstrip("/"))

    yield start
    for process in started:
        stop_server(process)
        with contextlib.suppress(Exception):
            assert process.stderr is not None
            process.stderr.close()
