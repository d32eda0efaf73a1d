"""``artifacts check [PIPELINE]``: validate registry artifacts on disk now."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    emit_json,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode


def check(
    pipeline: Annotated[
        str | None,
        typer.Argument(
            metavar="[PIPELINE]",
            help="Only the artifacts this pipeline's stages produce or consume.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """Validate the registry's artifacts as they are on disk now; run nothing.

    Exit 0 when every artifact is valid, 1 when one is invalid or missing, 2 when there
    is no registry or the config is wrong.
    """
    from codex_orchestrator.artifacts.check import CheckRequest, check_artifacts
    from codex_orchestrator.cli.output import warn

    request = CheckRequest(root=repo_root(), pipeline=pipeline, config=config)

    def core() -> ExitCode:
        report = check_artifacts(request, warn)
        if fmt is OutputFormat.JSON:
            emit_json(report.to_dict())
        else:
            from codex_orchestrator.ui.artifacts_check_view import render_check

            render_check(report)
        return report.exit_code

    run_core(core)


def register(app: typer.Typer) -> None:
    """Add ``check`` to the ``artifacts`` sub-app."""
    app.command("check")(check)
