"""A pipeline's stages as the scheduler's graph."""

from __future__ import annotations

from dataclasses import dataclass

from codex_orchestrator.engine.scheduler import Node
from codex_orchestrator.model import Pipeline


@dataclass(frozen=True, slots=True)
class StageGraph:
    """The nodes of a pipeline, and whether it is a plain linear chain."""

    nodes: tuple[Node, ...]
    linear: bool


def stage_graph(pipeline: Pipeline) -> StageGraph:
    """A pipeline without ``needs``: each stage needs the one before (today's behaviour)."""
    nodes: list[Node] = []
    previous: str | None = None
    for stage in pipeline.stages:
        nodes.append(Node(stage.id, (previous,) if previous is not None else ()))
        previous = stage.id
    return StageGraph(tuple(nodes), linear=True)
