"""``migrate``: bring runs of older ``.runs`` layouts into the current one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    OutputFormat,
    TaskOption,
    repo_root,
    run_app,
    run_core,
)
from codex_orchestrator.errors import ExitCode

DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Only plan: write the dry-run log, change nothing else."),
]
RunIdOption = Annotated[
    str | None,
    typer.Option("--run-id", help="Migrate this run only.", show_default=False),
]


def register(app: typer.Typer) -> None:
    """Add ``migrate`` to the app."""
    app.command("migrate")(migrate)


def migrate(
    dry_run: DryRunOption = False,
    run_id: RunIdOption = None,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Move .runs/<task>/mcp/<run> to cli/, copy real runs out of .runs/local-mcp, and log it.

    Exit codes: 0 done (or nothing to do), 1 some run could not be migrated (see the log),
    2 bad input.
    """
    from codex_orchestrator.legacy.migrate import MigrateRequest
    from codex_orchestrator.legacy.migrate import migrate as migrate_task

    request = MigrateRequest(root=repo_root(), task=task, run_id=run_id, dry_run=dry_run)

    def call() -> ExitCode:
        report = migrate_task(request)
        from codex_orchestrator.store.layout import relative_to_root

        log_path = relative_to_root(request.root, report.log_path)
        if fmt is OutputFormat.JSON:
            import orjson

            document = {**report.document, "log_path": log_path}
            sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            sys.stdout.flush()
            return report.exit_code
        from codex_orchestrator.ui.migrate_view import render_migration

        render_migration(report.document, log_path)
        return report.exit_code

    run_core(call)


def script_main() -> None:
    """``scripts/mcp-runner-migrate.py``: ``migrate`` as a command of its own."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command(help=migrate.__doc__)(migrate)
    run_app(app, prog_name="mcp-runner-migrate.py")
