"""The ``plan`` command's core: resolve a pipeline into a plan, as data.

Nothing is run and nothing is written: the plan is what ``start`` would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.config import load_config, resolve_config_path, select_pipeline
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import CommandStage, Config, Pipeline, StageKind


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRequest:
    """What the ``plan`` command was asked for."""

    pipeline: str | None
    config: Path | None
    root: Path
    target: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedStage:
    """One stage as it would run; a subpipeline carries its own resolved stages."""

    index: int
    id: str
    title: str
    kind: StageKind
    guardrail: bool
    command: str | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    allow_failure: bool | None = None
    timeout_ms: int | None = None
    summary_hint: str | None = None
    skip_reason: str | None = None
    pipeline: str | None = None
    optional: bool | None = None
    stages: tuple[PlannedStage, ...] | None = None
    needs: tuple[str, ...] = ()
    condition: str = "success"
    level: int = 1
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    in_graph: bool = False  # its pipeline is a graph (the text view shows needs then)

    def to_dict(self) -> dict[str, Any]:
        """As ``plan --format json`` prints it."""
        return {
            "index": self.index,
            "id": self.id,
            "title": self.title,
            "kind": str(self.kind),
            "command": self.command,
            "cwd": self.cwd,
            "env": dict(self.env),
            "allow_failure": self.allow_failure,
            "timeout_ms": self.timeout_ms,
            "summary_hint": self.summary_hint,
            "guardrail": self.guardrail,
            "skip_reason": self.skip_reason,
            "pipeline": self.pipeline,
            "optional": self.optional,
            "stages": None if self.stages is None else [s.to_dict() for s in self.stages],
            "needs": list(self.needs),
            "if": self.condition,
            "level": self.level,
            "produces": list(self.produces),
            "consumes": list(self.consumes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A resolved pipeline and the config it came from."""

    pipeline_id: str
    title: str
    description: str | None
    config_path: str | None
    guardrails_required: bool
    stages: tuple[PlannedStage, ...]
    warnings: tuple[str, ...] = ()
    target_id: str | None = None

    def is_target(self, stage: PlannedStage) -> bool:
        """Whether ``stage`` (a top-level one) is the run's ``--target``."""
        return self.target_id == f"{self.pipeline_id}:{stage.id}"

    def to_dict(self) -> dict[str, Any]:
        """As ``plan --format json`` prints it (warnings go to stderr, not here)."""
        return {
            "pipeline_id": self.pipeline_id,
            "title": self.title,
            "description": self.description,
            "config_path": self.config_path,
            "guardrails_required": self.guardrails_required,
            "plan_target_id": self.target_id,
            "stages": [stage.to_dict() for stage in self.stages],
        }

    def to_json(self) -> bytes:
        """One JSON document, indented for people, newline-terminated."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"


def resolve_plan(request: PlanRequest) -> Plan:
    """Load the config and resolve the requested pipeline; raises ConfigError."""
    path = resolve_config_path(request.config, request.root)
    config = load_config(path, request.root)
    pipeline = select_pipeline(config, request.pipeline)
    return build_plan(config, pipeline, target_id(pipeline, request.target))


def target_id(pipeline: Pipeline, target: str | None) -> str | None:
    """``--target STAGE`` (or ``PIPELINE:STAGE``) as the TypeScript tool records it:
    ``<pipeline>:<stage>``; InvalidInput when the pipeline has no such stage."""
    if target is None:
        return None
    stage_id = target.strip().removeprefix(f"{pipeline.id}:")
    if not any(stage.id == stage_id for stage in pipeline.stages):
        known = ", ".join(stage.id for stage in pipeline.stages) or "none"
        raise InvalidInput(
            f"--target {target}: pipeline {pipeline.id} has no stage {stage_id} (stages: {known})"
        )
    return f"{pipeline.id}:{stage_id}"


def build_plan(config: Config, pipeline: Pipeline, target: str | None = None) -> Plan:
    """The plan of ``pipeline``, subpipelines resolved from ``config`` (cycles were rejected)."""
    return Plan(
        target_id=target,
        pipeline_id=pipeline.id,
        title=pipeline.title,
        description=pipeline.description,
        config_path=config.path,
        guardrails_required=pipeline.requires_guardrails,
        stages=_plan_stages(config, pipeline),
        warnings=config.warnings,
    )


def stage_levels(needs: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Each stage's level: 1 without needs, else one more than its deepest need."""
    levels: dict[str, int] = {}

    def level(stage_id: str) -> int:
        if stage_id not in levels:
            levels[stage_id] = 1 + max((level(n) for n in needs.get(stage_id, ())), default=0)
        return levels[stage_id]

    for stage_id in needs:
        level(stage_id)
    return levels


def _plan_stages(config: Config, pipeline: Pipeline) -> tuple[PlannedStage, ...]:
    from codex_orchestrator.engine.graph import stage_graph

    needs = stage_graph(pipeline).needs()
    levels = stage_levels(needs)
    planned: list[PlannedStage] = []
    for index, stage in enumerate(pipeline.stages, start=1):
        graph_fields: dict[str, Any] = {
            "needs": needs[stage.id],
            "condition": stage.condition,
            "level": levels[stage.id],
            "produces": stage.produces,
            "consumes": stage.consumes,
            "in_graph": pipeline.is_graph,
        }
        if isinstance(stage, CommandStage):
            planned.append(
                PlannedStage(
                    index=index,
                    id=stage.id,
                    title=stage.title,
                    kind=stage.kind,
                    guardrail=stage.is_guardrail,
                    # Skipped diagnostics carry no command; null says so plainly.
                    command=stage.command or None,
                    cwd=stage.cwd,
                    env=dict(stage.env),
                    allow_failure=stage.allow_failure,
                    timeout_ms=stage.timeout_ms,
                    summary_hint=stage.summary_hint,
                    skip_reason=stage.skip_reason,
                    **graph_fields,
                )
            )
            continue
        child = config.pipelines[stage.pipeline]
        planned.append(
            PlannedStage(
                index=index,
                id=stage.id,
                title=stage.title,
                kind=stage.kind,
                guardrail=stage.is_guardrail,
                pipeline=stage.pipeline,
                optional=stage.optional,
                stages=_plan_stages(config, child),
                **graph_fields,
            )
        )
    return tuple(planned)
