"""The Typer application: one module per command group, registered here."""

from __future__ import annotations

from types import ModuleType
from typing import Annotated

import typer

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


def build_app(modules: tuple[ModuleType, ...] = _MODULES) -> typer.Typer:
    """The application with the commands of ``modules`` (all of them by default)."""
    application = _new_app()
    for module in modules:
        module.register(application)
    return application


def _names(module: ModuleType) -> set[str]:
    """The top-level command names a module registers."""
    scratch = _new_app()
    module.register(scratch)
    names = {group.name for group in scratch.registered_groups if group.name}
    for command in scratch.registered_commands:
        callback = command.callback
        names.add(command.name or (callback.__name__.replace("_", "-") if callback else ""))
    return names


def app_for(args: list[str]) -> typer.Typer:
    """Only the module of the command asked for: Typer turns every registered command
    into a Click command at each start (about a third of the CLI's start-up), so a
    command is built alone; help, a bad name or no command get the whole application."""
    if args and not args[0].startswith("-"):
        for module in _MODULES:
            if args[0] in _names(module):
                return build_app((module,))
    return build_app()


app = build_app()  # the whole application, for tests and documentation tools


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    try:
        start.refuse_agent_options(args)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    run_app(app_for(args), argv=argv)
