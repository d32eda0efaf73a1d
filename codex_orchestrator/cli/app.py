"""The Typer application: one module per command group, registered here."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator import __version__
from codex_orchestrator.cli import (
    artifacts,
    exec_cmd,
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

app = typer.Typer(
    name="codex-orchestrator",
    help="Run command pipelines and leave evidence a reviewer can trust.\n\n"
    "Exit codes: 0 succeeded, 1 run failed, 2 usage or input error, 3 internal error, "
    "130 cancelled.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codex-orchestrator {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run command pipelines and leave evidence a reviewer can trust."""


for module in (
    start,
    plan,
    artifacts,
    exec_cmd,
    status,
    runs,
    report,
    resume,
    metrics,
    migrate,
    server,
    store,
    artifacts,
):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    run_app(app, argv=argv)
