"""Text rendering of a plan: a header and one table row per stage, subpipelines nested."""

from __future__ import annotations

from collections.abc import Iterator

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from codex_orchestrator.planning import Plan, PlannedStage


def render_plan(plan: Plan, console: Console | None = None) -> None:
    """Print ``plan`` for people: what would run, in order, and what would be skipped."""
    # Highlighting would colour numbers and paths inside user commands at random.
    out = console or Console(highlight=False)
    out.print(Text(f"Pipeline {plan.pipeline_id}: {plan.title}", style="bold"))
    if plan.description:
        out.print(Text(plan.description))
    source = plan.config_path or "built-in (no config file)"
    guardrails = "required" if plan.guardrails_required else "not required"
    out.print(Text(f"Config: {source}  Guardrails: {guardrails}", style="dim"))
    if plan.target_id is not None:
        out.print(Text(f"Target: {plan.target_id}", style="bold"))
    out.print(plan_table(plan))


def plan_table(plan: Plan) -> Table:
    """The stages of ``plan`` as a table; nested stages are numbered ``3.1``, ``3.2`` ..."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", no_wrap=True)
    table.add_column("Stage", no_wrap=True)
    table.add_column("Title", max_width=24)
    # Notes sit under the command rather than beside it: the command gets the width.
    table.add_column("Runs", overflow="fold")
    for number, depth, stage in _rows(plan.stages, "", 0):
        marker = "-> " if depth == 0 and plan.is_target(stage) else ""
        # Text(), never plain str: rich would read "[...]" inside commands as markup.
        table.add_row(
            Text(number),
            Text(marker + "  " * depth + stage.id, style="bold" if marker else ""),
            Text(stage.title),
            _runs(stage),
        )
    return table


def _rows(
    stages: tuple[PlannedStage, ...], prefix: str, depth: int
) -> Iterator[tuple[str, int, PlannedStage]]:
    for stage in stages:
        number = f"{prefix}{stage.index}"
        yield number, depth, stage
        if stage.stages is not None:
            yield from _rows(stage.stages, f"{number}.", depth + 1)


def _runs(stage: PlannedStage) -> Text:
    if stage.skip_reason is not None:
        runs = Text(stage.skip_reason, style="yellow")
    elif stage.pipeline is not None:
        runs = Text(f"subpipeline {stage.pipeline}", style="cyan")
    else:
        runs = Text(stage.command or "")
    notes = ", ".join(_notes(stage))
    if notes:
        runs.append(f"\n{notes}", style="dim")
    return runs


def _notes(stage: PlannedStage) -> Iterator[str]:
    if stage.in_graph:
        yield f"level {stage.level}, needs " + " ".join(stage.needs)
    if stage.condition != "success":
        yield f"if {stage.condition}"
    if stage.produces:
        yield "produces " + " ".join(stage.produces)
    if stage.consumes:
        yield "consumes " + " ".join(stage.consumes)
    if stage.guardrail:
        yield "guardrail"
    if stage.optional:
        yield "optional"
    if stage.allow_failure:
        yield "failure allowed"
    if stage.timeout_ms is not None:
        yield f"timeout {stage.timeout_ms} ms"
    if stage.cwd is not None:
        yield f"cwd {stage.cwd}"
    if stage.env:
        yield "env " + " ".join(sorted(stage.env))
    if stage.summary_hint:
        yield f"hint: {stage.summary_hint}"
