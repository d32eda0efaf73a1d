"""What runs next: a pure state machine over a pipeline's stage graph (no IO).

The driver asks :meth:`Scheduler.ready` for the stages it may act on now, starts
some of them (``start``), reports each end (``finish``), and stops when ``done``. A
stage is ready when every stage it needs has ended (finished, or blocked itself);
its condition then decides between running it, skipping it, and blocking it:

- ``success`` (the default): run when every need succeeded or was skipped; otherwise
  the stage is blocked by the needs that failed or were blocked.
- ``always``: run whatever its needs did (cleanup).
- ``failure``: run when a need failed or was blocked; otherwise skip it.
- ``gate:<id>``: like ``success``, and then run only when that gate fired (skip it
  when the gate did not fire or was never evaluated).

``stop`` (cancel, ``--fail-fast``, or a linear pipeline's first failure) launches
nothing new: stages not started stay pending, neither run nor blocked. A gate's
``block`` action blocks the stages it names with ``gate:<id>``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from codex_orchestrator.model.pipeline import GATE_PREFIX, IF_ALWAYS, IF_FAILURE, IF_SUCCESS

SUCCESS = IF_SUCCESS
ALWAYS = IF_ALWAYS
FAILURE = IF_FAILURE


class Outcome(enum.StrEnum):
    """How a stage ended, as far as the graph is concerned."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class Action(enum.StrEnum):
    """What the driver should do with a ready stage."""

    RUN = "run"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Node:
    """A stage as the scheduler sees it: its id, what it needs, when it runs."""

    id: str
    needs: tuple[str, ...] = ()
    condition: str = SUCCESS


@dataclass(frozen=True, slots=True)
class Ready:
    """A stage the driver may act on now; ``reason`` says why it is skipped."""

    id: str
    action: Action
    reason: str | None = None


class Scheduler:
    """The state of one run's stage graph; see the module docstring.

    Incremental: each stage counts its needs that have not ended, and a stage whose
    count reaches zero becomes a candidate. ``ready`` looks at candidates only, so a
    run of N stages costs O(N + edges) in all, not O(N) per call.
    """

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        finished: Mapping[str, Outcome] | None = None,
        stop_on_failure: bool = False,
    ) -> None:
        self._nodes = {node.id: node for node in nodes}
        self._position = {node.id: i for i, node in enumerate(nodes)}
        self._dependents: dict[str, list[str]] = {node.id: [] for node in nodes}
        for node in nodes:
            for need in node.needs:
                if need not in self._nodes:
                    raise ValueError(f"stage {node.id!r} needs unknown stage {need!r}")
                self._dependents[need].append(node.id)
        self._finished: dict[str, Outcome] = dict(finished or {})
        self._running: set[str] = set()
        self._blocked: dict[str, tuple[str, ...]] = {}
        self._gates: dict[str, bool] = {}
        self._stopped = False
        self._stop_on_failure = stop_on_failure
        self._waiting = {
            node.id: sum(1 for need in node.needs if not self._ended(need)) for node in nodes
        }
        self._candidates = {
            node.id for node in nodes if not self._waiting[node.id] and not self._ended(node.id)
        }

    @property
    def stopped(self) -> bool:
        """Whether nothing new will be launched."""
        return self._stopped

    @property
    def running(self) -> frozenset[str]:
        """The stages started and not yet finished."""
        return frozenset(self._running)

    @property
    def blocked(self) -> Mapping[str, tuple[str, ...]]:
        """Stages that will not run, with what blocked each (stage ids or ``gate:<id>``)."""
        return dict(self._blocked)

    @property
    def finished(self) -> Mapping[str, Outcome]:
        """Stages that ended, with how."""
        return dict(self._finished)

    def is_started(self, stage_id: str) -> bool:
        """Whether ``stage_id`` was started, or has ended or been blocked."""
        return stage_id in self._running or self._ended(stage_id)

    def _ended(self, stage_id: str) -> bool:
        return stage_id in self._finished or stage_id in self._blocked

    def _bad(self, stage_id: str) -> bool:
        return stage_id in self._blocked or self._finished.get(stage_id) is Outcome.FAILED

    def _settled(self, stage_id: str) -> None:
        """``stage_id`` just ended: its dependents wait for one need less."""
        self._candidates.discard(stage_id)
        for dependent in self._dependents[stage_id]:
            self._waiting[dependent] -= 1
            if not self._waiting[dependent] and not (
                dependent in self._running or self._ended(dependent)
            ):
                self._candidates.add(dependent)

    def ready(self) -> list[Ready]:
        """Stages to act on now, in pipeline order; blocked stages are settled on the way."""
        if self._stopped:
            return []
        while True:
            found: list[Ready] = []
            changed = False
            for stage_id in sorted(self._candidates, key=self._position.__getitem__):
                decision = self._decide(self._nodes[stage_id])
                if isinstance(decision, tuple):
                    self._blocked[stage_id] = decision
                    self._settled(stage_id)
                    changed = True  # its dependents may be settled now too
                else:
                    found.append(decision)
            if not changed:
                return found

    def _decide(self, node: Node) -> Ready | tuple[str, ...]:
        bad = tuple(need for need in node.needs if self._bad(need))
        if node.condition == ALWAYS:
            return Ready(node.id, Action.RUN)
        if node.condition == FAILURE:
            if bad:
                return Ready(node.id, Action.RUN)
            return Ready(node.id, Action.SKIP, "skipped: no stage it needs failed")
        if bad:
            return bad
        if node.condition.startswith(GATE_PREFIX):
            gate_id = node.condition.removeprefix(GATE_PREFIX)
            if not self._gates.get(gate_id, False):
                return Ready(node.id, Action.SKIP, f"skipped: gate {gate_id} did not fire")
        return Ready(node.id, Action.RUN)

    def start(self, stage_id: str) -> None:
        """The driver started (or is skipping) ``stage_id``."""
        if stage_id in self._running or self._ended(stage_id):
            raise ValueError(f"stage {stage_id!r} was already started")
        self._running.add(stage_id)
        self._candidates.discard(stage_id)

    def finish(self, stage_id: str, outcome: Outcome) -> None:
        """``stage_id`` ended with ``outcome``."""
        if stage_id not in self._running:
            raise ValueError(f"stage {stage_id!r} is not running")
        self._running.discard(stage_id)
        self._finished[stage_id] = outcome
        self._settled(stage_id)
        if outcome is Outcome.FAILED and self._stop_on_failure:
            self._stopped = True

    def gate(self, gate_id: str, *, fired: bool) -> None:
        """Record a gate's evaluation (``if: gate:<id>`` stages read it)."""
        self._gates[gate_id] = fired

    def block(self, stage_ids: Iterable[str], reason: str) -> None:
        """Keep these stages (not started yet) from running: blocked by ``reason``."""
        for stage_id in stage_ids:
            if stage_id in self._running or self._ended(stage_id):
                continue
            if stage_id in self._nodes:
                self._blocked[stage_id] = (reason,)
                self._settled(stage_id)

    def stop(self) -> None:
        """Launch nothing new; running stages finish."""
        self._stopped = True

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more can start."""
        return not self._running and not self.ready()
