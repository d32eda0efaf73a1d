"""The graph keys of a config: ``needs``, ``if``, ``produces``, ``consumes``, ``jobs``.

Read per stage, then checked per pipeline once stage sets are expanded: every need
names a stage of the pipeline, nothing needs itself, the graph (with the implied
edges from consumers to producers) has no cycle, and every consumed artifact is
produced by a stage or provided as a file. Errors name the file and the key path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.model.pipeline import (
    GATE_PREFIX,
    IF_ALWAYS,
    IF_FAILURE,
    IF_SUCCESS,
    Stage,
)
from codex_orchestrator.model.registry import Registry

SUCCESS = IF_SUCCESS
CONDITIONS = (IF_SUCCESS, IF_ALWAYS, IF_FAILURE)
GRAPH_STAGE_KEYS = frozenset({"needs", "if", "produces", "consumes"})


class GraphKeys(NamedTuple):
    """A stage's graph keys as written."""

    needs: tuple[str, ...] = ()
    condition: str = SUCCESS
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()


def read_graph_keys(reader: FieldReader, obj: Mapping[str, Any], where: str) -> GraphKeys:
    """The stage's ``needs``, ``if``, ``produces`` and ``consumes``."""
    condition = reader.text(obj, where, "if", required=False) or SUCCESS
    if condition not in CONDITIONS and not (
        condition.startswith(GATE_PREFIX) and len(condition) > len(GATE_PREFIX)
    ):
        raise reader.error(
            key_path(where, "if"),
            f'must be "success", "always", "failure" or "gate:<gate id>", got "{condition}"',
        )
    return GraphKeys(
        needs=names(reader, obj, where, "needs"),
        condition=condition,
        produces=names(reader, obj, where, "produces"),
        consumes=names(reader, obj, where, "consumes"),
    )


def graph_fields(keys: GraphKeys) -> dict[str, Any]:
    """A command stage's constructor arguments for its graph keys."""
    return {
        "needs": keys.needs,
        "condition": keys.condition,
        "produces": keys.produces,
        "consumes": keys.consumes,
    }


def graph_keys_of(stage: Stage) -> GraphKeys:
    """The graph keys a parsed stage carries."""
    return GraphKeys(stage.needs, stage.condition, stage.produces, stage.consumes)


def with_registry(stage: Stage, registry: Registry | None) -> Stage:
    """The stage with the registry's word added: what it produces and (by name) consumes."""
    if registry is None:
        return stage
    produces = [*stage.produces]
    consumes = [*stage.consumes]
    for spec in registry.artifacts.values():
        if spec.producer == stage.id and spec.name not in produces:
            produces.append(spec.name)
        elif spec.consumed_by(stage.id) and spec.name not in consumes:
            consumes.append(spec.name)
    if (tuple(produces), tuple(consumes)) == (stage.produces, stage.consumes):
        return stage
    return dataclasses.replace(stage, produces=tuple(produces), consumes=tuple(consumes))


def names(reader: FieldReader, obj: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
    """An optional array of distinct non-empty strings."""
    raw = obj.get(key)
    if raw is None:
        return ()
    here = key_path(where, key)
    if not isinstance(raw, list):
        raise reader.error(here, f"must be an array of strings, got {json_type(raw)}")
    seen: list[str] = []
    for position, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip():
            got = json_type(item) if not isinstance(item, str) else "an empty string"
            raise reader.error(f"{here}[{position}]", f"must be a non-empty string, got {got}")
        if item in seen:
            raise reader.error(f"{here}[{position}]", f'"{item}" is listed twice')
        seen.append(item)
    return tuple(seen)


def read_jobs(reader: FieldReader, obj: Mapping[str, Any], where: str) -> int | None:
    """A pipeline's ``jobs``: a positive integer, or absent."""
    value = obj.get("jobs")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    shown = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    got = json_type(value) if shown is None else str(shown)
    raise reader.error(key_path(where, "jobs"), f"must be a positive integer, got {got}")


class GraphStage(NamedTuple):
    """What the pipeline check needs of one expanded stage (a tuple: one a stage)."""

    id: str
    where: str  # key path of the stage object (shown with the ref that included it)
    keys: GraphKeys


def check_graph(
    reader: FieldReader,
    pipeline_id: str,
    stages: Sequence[GraphStage],
    *,
    producers: Mapping[str, str],
    provided: Callable[[str], bool],
    gates: Mapping[str, str],
) -> None:
    """Raise ConfigError (naming the key path) for a graph that cannot run.

    ``producers`` maps each artifact to the stage producing it (stage ``produces`` and
    the registry's producers); ``provided(name)`` says whether an artifact no stage
    produces exists as a file; ``gates`` maps gate ids to their artifact.
    """
    ids = [stage.id for stage in stages]
    # Stage id -> position: membership and order checks stay O(1) in big pipelines.
    order = {stage_id: position for position, stage_id in enumerate(ids)}
    linear = not any(s.keys.needs or s.keys.condition != SUCCESS for s in stages)
    edges: dict[str, list[tuple[str, str]]] = {}
    for stage in stages:
        keys = stage.keys
        if not keys.needs and not keys.consumes and keys.condition == SUCCESS:
            continue  # most stages: nothing to check, no edge
        for position, need in enumerate(keys.needs):
            here = f"{key_path(stage.where, 'needs')}[{position}]"
            if need == stage.id:
                raise reader.error(here, f'stage "{stage.id}" cannot need itself')
            if need not in order:
                known = ", ".join(ids)
                message = f'unknown stage "{need}" (stages of pipeline "{pipeline_id}": {known})'
                raise reader.error(here, message)
            edges.setdefault(stage.id, []).append((need, here))
        condition = keys.condition
        if condition.startswith(GATE_PREFIX):
            gate_id = condition.removeprefix(GATE_PREFIX)
            if gate_id not in gates:
                shown = ", ".join(gates) if gates else "no gates are configured"
                raise reader.error(
                    key_path(stage.where, "if"), f'unknown gate "{gate_id}" ({shown})'
                )
            producer = producers.get(gates[gate_id])
            if producer is not None and producer != stage.id:
                edges.setdefault(stage.id, []).append((producer, key_path(stage.where, "if")))
        if keys.consumes:
            edges.setdefault(stage.id, []).extend(
                _consumer_edges(
                    reader, pipeline_id, stage, order, producers, provided, linear=linear
                )
            )
    if edges:
        _check_acyclic(reader, ids, edges)


def _consumer_edges(
    reader: FieldReader,
    pipeline_id: str,
    stage: GraphStage,
    order: Mapping[str, int],
    producers: Mapping[str, str],
    provided: Callable[[str], bool],
    *,
    linear: bool,
) -> list[tuple[str, str]]:
    """The needs a consumer implies: one on the producer of each artifact it consumes."""
    edges: list[tuple[str, str]] = []
    consumes_where = key_path(stage.where, "consumes")
    for position, artifact in enumerate(stage.keys.consumes):
        here = f"{consumes_where}[{position}]"
        producer = producers.get(artifact)
        if producer is None:
            if not provided(artifact):
                raise reader.error(
                    here,
                    f'artifact "{artifact}" is produced by no stage of pipeline '
                    f'"{pipeline_id}" and no file provides it',
                )
            continue
        if producer == stage.id:
            raise reader.error(here, f'stage "{stage.id}" consumes what it produces')
        if producer in order:
            if linear and order[producer] > order[stage.id]:
                raise reader.error(
                    here,
                    f'artifact "{artifact}" is produced by the later stage "{producer}"; '
                    "list the producer first or give the stages needs",
                )
            edges.append((producer, here))
    return edges


def _check_acyclic(
    reader: FieldReader, ids: Sequence[str], edges: Mapping[str, list[tuple[str, str]]]
) -> None:
    done: set[str] = set()
    for start in ids:
        if start in done:
            continue
        # Iterative DFS: (stage, index of the next edge); path holds the current chain.
        path: list[str] = [start]
        stack: list[tuple[str, int]] = [(start, 0)]
        on_path = {start}
        while stack:
            node, position = stack[-1]
            outgoing = edges.get(node, [])
            if position >= len(outgoing):
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            stack[-1] = (node, position + 1)
            target, where = outgoing[position]
            if target in on_path:
                cycle = " -> ".join([*path[path.index(target) :], target])
                raise reader.error(where, f"needs cycle: {cycle}")
            if target not in done:
                stack.append((target, 0))
                path.append(target)
                on_path.add(target)
