"""``migrate``: bring runs of older ``.runs`` layouts into the current one."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    FormatOption,
    OutputFormat,
    TaskOption,
    emit_json,
    repo_root,
    run_command_as_script,
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

        log_path = (
            None if report.log_path is None else relative_to_root(request.root, report.log_path)
        )
        if fmt is OutputFormat.JSON:
            emit_json({**report.document, "log_path": log_path})
            return report.exit_code
        from codex_orchestrator.ui.migrate_view import render_migration

        render_migration(report.document, log_path)
        return report.exit_code

    run_core(call)


def script_main() -> None:
    """``scripts/mcp-runner-migrate.py``: ``migrate`` as a command of its own."""
    run_command_as_script(migrate, "mcp-runner-migrate.py")
