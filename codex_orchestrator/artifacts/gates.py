"""Evaluating a gate: its JMESPath ``when`` over a validated artifact's content."""

from __future__ import annotations

from typing import Any

from codex_orchestrator.model import now_iso
from codex_orchestrator.model.registry import Gate


def truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; every number is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return bool(value)
    return True


def gate_fires(gate: Gate, document: Any) -> bool:
    """Whether ``gate.when`` is truthy over ``document`` (an error counts as not fired)."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return truthy(jmespath.search(gate.when, document))
    except JMESPathError:
        return False


def gate_entry(gate: Gate, *, fired: bool, stages: tuple[str, ...]) -> dict[str, Any]:
    """The manifest's ``gates[]`` entry (LAYERS.md field names)."""
    return {
        "id": gate.id,
        "artifact": gate.artifact,
        "fired": fired,
        "action": gate.action,
        "stages": list(stages),
        "notify": list(gate.notify),
        "message": gate.message,
        "evaluated_at": now_iso(),
    }
