"""Start-up builds only the command asked for; what it prints is the whole app's."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from codex_orchestrator.cli.app import app, app_for

NAMES = sorted(
    [c.name for c in app.registered_commands if c.name]
    + [g.name for g in app.registered_groups if g.name]
)


def test_every_command_has_a_name_to_be_picked_by() -> None:
    assert len(NAMES) == len(app.registered_commands) + len(app.registered_groups)


@pytest.mark.parametrize("name", NAMES)
def test_a_command_is_built_alone_and_helps_as_in_the_whole_app(name: str) -> None:
    alone = app_for([name, "--help"])
    held = [c.name for c in alone.registered_commands] + [g.name for g in alone.registered_groups]
    assert held == [name]
    runner = CliRunner()
    expected = runner.invoke(app, [name, "--help"])
    got = runner.invoke(alone, [name, "--help"])
    assert (got.exit_code, got.output) == (expected.exit_code, expected.output)


@pytest.mark.parametrize("args", [[], ["--help"], ["--version", "x"], ["no-such-command"]])
def test_no_command_or_an_unknown_one_gets_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is app


def test_version_alone_builds_no_command_and_prints_as_the_whole_app() -> None:
    alone = app_for(["--version"])
    assert alone.registered_commands == []
    assert alone.registered_groups == []
    runner = CliRunner()
    expected = runner.invoke(app, ["--version"])
    got = runner.invoke(alone, ["--version"])
    assert (got.exit_code, got.output) == (expected.exit_code, expected.output)
    assert got.output.startswith("codex-orchestrator ")
