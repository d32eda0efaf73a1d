"""A plan as a graph drawing: Graphviz ``dot`` or Mermaid, artifacts as labelled edges."""

from __future__ import annotations

from codex_orchestrator.planning import Plan, PlannedStage


def _edges(stages: tuple[PlannedStage, ...]) -> list[tuple[str, str, str | None]]:
    """(from, to, label): a need, labelled with the artifacts that flow along it."""
    producers: dict[str, str] = {}
    for stage in stages:
        for name in stage.produces:
            producers.setdefault(name, stage.id)
    edges: list[tuple[str, str, str | None]] = []
    for stage in stages:
        for need in stage.needs:
            flowing = [a for a in stage.consumes if producers.get(a) == need]
            edges.append((need, stage.id, ", ".join(flowing) or None))
    return edges


def _quote(text: str) -> str:
    """A dot string: backslashes and quotes escaped, newlines as \n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def to_dot(plan: Plan) -> str:
    """Graphviz: one node per stage (id and title), one edge per need."""
    lines = [f"digraph {_quote(plan.pipeline_id)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for stage in plan.stages:
        name = stage.id if stage.title == stage.id else f"{stage.id}\n{stage.title}"
        extra = "" if stage.condition == "success" else f"\nif {stage.condition}"
        lines.append(f"  {_quote(stage.id)} [label={_quote(name + extra)}];")
    for source, target, label in _edges(plan.stages):
        suffix = f" [label={_quote(label)}]" if label else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(plan: Plan) -> str:
    """Mermaid flowchart: nodes ``s1``, ``s2`` ... labelled with the stage ids."""
    names = {stage.id: f"s{stage.index}" for stage in plan.stages}
    lines = ["flowchart LR"]
    for stage in plan.stages:
        extra = "" if stage.condition == "success" else f"<br/>if {stage.condition}"
        lines.append(f'  {names[stage.id]}["{_mermaid_text(stage.id)}{extra}"]')
    for source, target, label in _edges(plan.stages):
        arrow = f'-->|"{_mermaid_text(label)}"|' if label else "-->"
        lines.append(f"  {names[source]} {arrow} {names[target]}")
    return "\n".join(lines) + "\n"
