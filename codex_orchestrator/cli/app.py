"""The Typer application: one module per command group, registered here."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.models import CommandInfo

from codex_orchestrator import __version__
from codex_orchestrator.cli import (
    artifacts,
    exec_cmd,
    logs,
    metrics,
    migrate,
    plan,
    report,
    resume,
    runs,
    server,
    start,
    status,
    store,
)
from codex_orchestrator.cli.common import run_app

_MODULES = (
    start,
    plan,
    artifacts,
    exec_cmd,
    status,
    logs,
    runs,
    report,
    resume,
    metrics,
    migrate,
    server,
    store,
)


def _new_app() -> typer.Typer:
    application = typer.Typer(
        name="codex-orchestrator",
        help="Run command pipelines and leave evidence a reviewer can trust.\n\n"
        "Exit codes: 0 succeeded, 1 run failed, 2 usage or input error, 3 internal error, "
        "130 cancelled.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(_root)
    return application


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codex-orchestrator {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run command pipelines and leave evidence a reviewer can trust."""


app = _new_app()  # every command: --help, no command, an unknown name, tests, docs
for _module in _MODULES:
    _module.register(app)


def _command_name(command: CommandInfo) -> str:
    """The name Typer gives a registered command (its function's, dashed, by default)."""
    callback = command.callback
    return command.name or (callback.__name__.replace("_", "-") if callback else "")


def app_for(args: list[str]) -> typer.Typer:
    """The application holding only the command asked for, else the whole one.

    Typer turns every registered command into a Click command at each start (about a
    third of the CLI's start-up), so the command named first is taken alone; help, a
    bad name or no command get the whole application (its listing, "did you mean").
    """
    if args == ["--version"]:
        return _new_app()  # the root option alone: no command to build
    if not args or args[0].startswith("-"):
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if not commands and not groups:
        return app
    single = _new_app()
    single.registered_commands = commands
    single.registered_groups = groups
    return single


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    try:
        start.refuse_agent_options(args)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    run_app(app_for(args), argv=argv)
