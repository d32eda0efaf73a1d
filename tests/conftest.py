"""Fixtures every test gets: a private working directory and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

# Variables that steer the orchestrator; a developer's shell must not steer the tests.
_OWN_ENV_PREFIX = "CODEX_ORCHESTRATOR_"
# GITHUB_STEP_SUMMARY: runs append their summary there; tests in CI must not.
_OWN_ENV_NAMES = frozenset({"MCP_RUNNER_TASK_ID", "GITHUB_STEP_SUMMARY"})


def _own_variable(name: str) -> bool:
    return name.startswith(_OWN_ENV_PREFIX) or name in _OWN_ENV_NAMES


def pytest_configure(config: pytest.Config) -> None:
    """Drop the orchestrator's variables before any fixture runs, module- and
    session-scoped ones included: when the suite runs as a stage (the diagnostics
    pipeline's test stage) the runner's CODEX_ORCHESTRATOR_ROOT would otherwise point
    every CLI a fixture starts at the outer repository, whose tests would run again."""
    for name in [name for name in os.environ if _own_variable(name)]:
        del os.environ[name]


@pytest.fixture(autouse=True)
def _isolated(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run each test in ``tmp_path`` with no orchestrator variables and a throwaway HOME."""
    for name in list(os.environ):
        if _own_variable(name):
            monkeypatch.delenv(name)
    # HOME lives outside tmp_path so that tests inspecting tmp_path see only their files.
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli_app() -> typer.Typer:
    """The real application; while sibling commands are unfinished, a fresh app with ``plan``."""
    try:
        from codex_orchestrator.cli.app import app
    except ImportError:
        from codex_orchestrator.cli import plan

        app = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)

        @app.callback()
        def _root() -> None:
            """Keep ``plan`` a subcommand, as in the real application."""

        plan.register(app)
    return app


@pytest.fixture
def run_cli(cli_app: typer.Typer) -> Callable[..., Result]:
    """Invoke the CLI in-process: ``run_cli("plan", "--format", "json")``."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli_app, list(args))

    return run
