"""A pipeline's stages as the scheduler's graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codex_orchestrator.engine.scheduler import Node
from codex_orchestrator.model import Pipeline


@dataclass(frozen=True, slots=True)
class StageGraph:
    """The nodes of a pipeline, and whether it is a plain linear chain."""

    nodes: tuple[Node, ...]
    linear: bool

    def needs(self) -> dict[str, tuple[str, ...]]:
        """Every stage's needs, explicit and implied."""
        return {node.id: node.needs for node in self.nodes}


def stage_graph(pipeline: Pipeline, producers: Mapping[str, str] | None = None) -> StageGraph:
    """The graph a run follows.

    Without ``needs`` anywhere each stage needs the one before (and the run stops at the
    first failure: today's behaviour). A stage that ``consumes`` an artifact also needs
    its producer (``producers``: artifact -> stage id; stages' ``produces`` count too).
    """
    known = {stage.id for stage in pipeline.stages}
    makers = dict(producers or {})
    for stage in pipeline.stages:
        makers.update(dict.fromkeys(stage.produces, stage.id))
    linear = not pipeline.is_graph
    nodes: list[Node] = []
    previous: str | None = None
    for stage in pipeline.stages:
        needs = list(stage.needs)
        if linear and previous is not None:
            needs.insert(0, previous)
        for artifact in stage.consumes:
            maker = makers.get(artifact)
            if maker is not None and maker in known and maker != stage.id and maker not in needs:
                needs.append(maker)
        nodes.append(Node(stage.id, tuple(needs), stage.condition))
        previous = stage.id
    return StageGraph(tuple(nodes), linear=linear)
