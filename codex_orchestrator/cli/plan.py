"""``codex-orchestrator plan``: show what a pipeline would run, without running it."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    TargetOption,
    TargetStageOption,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode


class PlanFormat(enum.StrEnum):
    """How ``plan`` prints: a table, one JSON document, or a graph drawing."""

    TEXT = "text"
    JSON = "json"
    DOT = "dot"
    MERMAID = "mermaid"


PlanFormatOption = Annotated[
    PlanFormat,
    typer.Option(
        "--format",
        help="text for people, json for one JSON document, dot (Graphviz) or mermaid for "
        "the stage graph with artifacts as labelled edges.",
    ),
]

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
    output_format: PlanFormatOption = PlanFormat.TEXT,
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
        if output_format is PlanFormat.JSON:
            sys.stdout.write(resolved.to_json().decode())
        elif output_format in (PlanFormat.DOT, PlanFormat.MERMAID):
            from codex_orchestrator.plan_graph import to_dot, to_mermaid

            draw = to_dot if output_format is PlanFormat.DOT else to_mermaid
            sys.stdout.write(draw(resolved))
        else:
            from codex_orchestrator.ui.plan_view import render_plan

            render_plan(resolved)
        return ExitCode.OK

    run_core(core)


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``."""
    app.command("plan")(plan)
