"""The scheduler as a pure state machine: any graph, any completion order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_orchestrator.engine.scheduler import (
    ALWAYS,
    FAILURE,
    SUCCESS,
    Action,
    Node,
    Outcome,
    Scheduler,
)


@st.composite
def graphs(draw: st.DrawFn) -> list[Node]:
    """An acyclic graph: each stage needs only stages listed before it."""
    count = draw(st.integers(min_value=1, max_value=12))
    nodes = []
    for position in range(count):
        earlier = [f"s{i}" for i in range(position)]
        needs = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
        condition = draw(st.sampled_from([SUCCESS, SUCCESS, ALWAYS, FAILURE, "gate:g"]))
        nodes.append(Node(f"s{position}", tuple(needs), condition))
    return nodes


@settings(max_examples=300, deadline=None)
@given(
    nodes=graphs(),
    data=st.data(),
    jobs=st.integers(min_value=1, max_value=4),
    stop_on_failure=st.booleans(),
)
def test_any_completion_order_respects_needs_and_ends(
    nodes: list[Node], data: st.DataObject, jobs: int, stop_on_failure: bool
) -> None:
    """Never before its needs, never when blocked, every stage settled, and it ends."""
    by_id = {node.id: node for node in nodes}
    scheduler = Scheduler(nodes, stop_on_failure=stop_on_failure)
    fired = data.draw(st.booleans(), label="gate fired")
    scheduler.gate("g", fired=fired)
    ended: dict[str, Outcome] = {}
    running: list[str] = []
    for _ in range(4 * len(nodes) + 4):  # each step starts or ends something
        for ready in scheduler.ready():
            node = by_id[ready.id]
            assert all(need in ended or need in scheduler.blocked for need in node.needs)
            assert ready.id not in scheduler.blocked
            bad = [
                n for n in node.needs if n in scheduler.blocked or ended.get(n) is Outcome.FAILED
            ]
            if node.condition in (SUCCESS, "gate:g"):
                assert not bad, "a stage ran although a need failed"
            if ready.action is Action.SKIP:
                scheduler.start(ready.id)
                scheduler.finish(ready.id, Outcome.SKIPPED)
                ended[ready.id] = Outcome.SKIPPED
            elif len(running) < jobs:
                scheduler.start(ready.id)
                running.append(ready.id)
        if not running:
            if scheduler.done:
                break
            continue
        finishing = running.pop(data.draw(st.integers(0, len(running) - 1), label="finishes"))
        outcome = data.draw(st.sampled_from([Outcome.SUCCEEDED, Outcome.FAILED]), label="outcome")
        scheduler.finish(finishing, outcome)
        ended[finishing] = outcome
    else:
        pytest.fail("the scheduler did not end")
    assert scheduler.done
    assert not scheduler.running
    settled = set(ended) | set(scheduler.blocked)
    assert not set(ended) & set(scheduler.blocked)
    if not scheduler.stopped:
        assert settled == set(by_id), "a stage was neither run, skipped nor blocked"
    for stage_id, blockers in scheduler.blocked.items():
        assert by_id[stage_id].condition in (SUCCESS, "gate:g")
        assert all(b in scheduler.blocked or ended.get(b) is Outcome.FAILED for b in blockers)


def test_a_linear_chain_stops_at_the_first_failure() -> None:
    """Without needs, each stage needs the one before; a failure leaves the rest pending."""
    nodes = [Node("a"), Node("b", ("a",)), Node("c", ("b",))]
    scheduler = Scheduler(nodes, stop_on_failure=True)
    assert [r.id for r in scheduler.ready()] == ["a"]
    scheduler.start("a")
    scheduler.finish("a", Outcome.FAILED)
    assert scheduler.ready() == []
    assert scheduler.done
    assert scheduler.blocked == {}


def test_a_diamond_blocks_what_a_failed_branch_feeds_but_runs_cleanup() -> None:
    """One branch fails: the join is blocked by it, an ``always`` stage still runs."""
    nodes = [
        Node("design"),
        Node("left", ("design",)),
        Node("right", ("design",)),
        Node("join", ("left", "right")),
        Node("cleanup", ("join",), ALWAYS),
        Node("on-failure", ("left", "right"), FAILURE),
    ]
    scheduler = Scheduler(nodes)
    scheduler.start("design")
    scheduler.finish("design", Outcome.SUCCEEDED)
    assert [r.id for r in scheduler.ready()] == ["left", "right"]
    for stage_id, outcome in (("left", Outcome.FAILED), ("right", Outcome.SUCCEEDED)):
        scheduler.start(stage_id)
        scheduler.finish(stage_id, outcome)
    ready = scheduler.ready()
    assert [(r.id, r.action) for r in ready] == [
        ("cleanup", Action.RUN),
        ("on-failure", Action.RUN),
    ]
    assert scheduler.blocked == {"join": ("left",)}


def test_resumed_graph_runs_only_what_did_not_finish() -> None:
    """Stages that succeeded before are done; the rest run in order."""
    nodes = [Node("a"), Node("b", ("a",)), Node("c", ("b",))]
    scheduler = Scheduler(nodes, finished={"a": Outcome.SUCCEEDED})
    assert [r.id for r in scheduler.ready()] == ["b"]


def test_gate_block_and_gate_condition() -> None:
    """A blocked stage is blocked by the gate; ``if: gate:<id>`` runs only when it fired."""
    nodes = [Node("tests"), Node("deploy", ("tests",)), Node("page", ("tests",), "gate:cov")]
    scheduler = Scheduler(nodes)
    scheduler.start("tests")
    scheduler.gate("cov", fired=True)
    scheduler.block(["deploy"], "gate:cov")
    scheduler.finish("tests", Outcome.SUCCEEDED)
    assert [(r.id, r.action) for r in scheduler.ready()] == [("page", Action.RUN)]
    assert scheduler.blocked == {"deploy": ("gate:cov",)}


def test_unknown_need_is_refused() -> None:
    """The config catches these first; the scheduler refuses them too."""
    with pytest.raises(ValueError, match="unknown stage"):
        Scheduler([Node("a", ("nope",))])


def test_a_long_chain_costs_work_in_proportion_to_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each ``ready`` looks at the stages that became ready, not at every stage: a chain
    of N stages run to the end checks O(N) stages (it was O(N^2), seconds at 2,000)."""
    checked = 0
    original = Scheduler._ended

    def counting(self: Scheduler, stage_id: str) -> bool:
        nonlocal checked
        checked += 1
        return original(self, stage_id)

    monkeypatch.setattr(Scheduler, "_ended", counting)
    count = 2000
    nodes = [Node(f"s{i}", (f"s{i - 1}",) if i else ()) for i in range(count)]
    scheduler = Scheduler(nodes, stop_on_failure=True)
    for _ in range(count):
        (ready,) = scheduler.ready()
        scheduler.start(ready.id)
        assert not scheduler.done
        scheduler.finish(ready.id, Outcome.SUCCEEDED)
    assert scheduler.done
    assert checked <= 10 * count


def test_blocking_settles_the_dependents_of_a_stage_not_yet_ready() -> None:
    """A gate blocks a stage still waiting for its needs: it never runs, and what needs
    it is settled (blocked) once the rest of its needs end."""
    nodes = [Node("a"), Node("b", ("a",)), Node("c", ("b",)), Node("d", ("a",))]
    scheduler = Scheduler(nodes)
    scheduler.block(["b"], "gate:g")
    (first,) = scheduler.ready()
    scheduler.start(first.id)
    scheduler.finish(first.id, Outcome.SUCCEEDED)
    assert [r.id for r in scheduler.ready()] == ["d"]
    assert scheduler.blocked == {"b": ("gate:g",), "c": ("b",)}
