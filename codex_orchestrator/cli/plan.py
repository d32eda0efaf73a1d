"""``codex-orchestrator plan``: show what a pipeline would run, without running it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    TargetOption,
    TargetStageOption,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode

PipelineArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="PIPELINE",
        help="Pipeline id (default: the config's defaultPipeline, else diagnostics).",
        show_default=False,
    ),
]


def plan(
    pipeline: PipelineArgument = None,
    output_format: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
    target: TargetOption = None,
    target_stage: TargetStageOption = None,
) -> None:
    """Show what a pipeline would run, without running it.

    Stage sets are expanded and subpipelines shown with their own stages, nested.
    Nothing is run and nothing is written. --format json prints one JSON document
    on stdout. Config warnings go to stderr; a config error exits 2.

    --target STAGE marks the stage a run would focus on (plan_target_id).

    Examples: "codex-orchestrator plan", "codex-orchestrator plan ci --format json".
    """
    # Imported here, not at module level, so other commands start without them.
    from codex_orchestrator.planning import PlanRequest, resolve_plan

    request = PlanRequest(
        pipeline=pipeline, config=config, root=repo_root(), target=target or target_stage
    )

    def core() -> ExitCode:
        resolved = resolve_plan(request)
        for warning in resolved.warnings:
            sys.stderr.write(f"codex-orchestrator: warning: {warning}\n")
        if output_format is OutputFormat.JSON:
            sys.stdout.write(resolved.to_json().decode())
        else:
            from codex_orchestrator.ui.plan_view import render_plan

            render_plan(resolved)
        return ExitCode.OK

    run_core(core)


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``."""
    app.command("plan")(plan)
