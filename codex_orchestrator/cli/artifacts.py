"""``artifacts``: the sub-app of artifact commands (keep/collect ones in artifacts_cmds)."""

from __future__ import annotations

import typer

from codex_orchestrator.cli import artifacts_cmds, artifacts_live

artifacts_app = typer.Typer(
    help="Kept, collected, live and sealed artifacts of runs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
artifacts_cmds.register(artifacts_app)
artifacts_live.register(artifacts_app)


def register(app: typer.Typer) -> None:
    """Add ``artifacts`` to the app."""
    app.add_typer(artifacts_app, name="artifacts")
