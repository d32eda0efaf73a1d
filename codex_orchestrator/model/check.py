"""Is a JSON object a manifest we may write back? The first bad field, named.

Readers are tolerant (a missing field is shown as unknown), but a command that would
write a manifest back must not turn a document it does not understand into a made-up
one: it refuses, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codex_orchestrator.model.records import CommandStatus, RunStatus, StageKind

_REQUIRED_STRINGS = ("run_id", "task_id", "pipeline_id")
_OPTIONAL_STRINGS = ("resume_token", "status_detail", "parent_run_id", "started_at")
_LISTS = ("resume_events", "approvals", "child_runs")


def manifest_problem(data: Mapping[str, Any]) -> str | None:
    """``None`` when ``data`` can be written back; else ``<field>: <what is wrong>``."""
    status = data.get("status")
    if not isinstance(status, str) or status not in set(RunStatus):
        return f"status: expected one of {'|'.join(RunStatus)}, found {_shown(status)}"
    for key in _REQUIRED_STRINGS:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            return f"{key}: expected a non-empty string, found {_shown(value)}"
    for key in _OPTIONAL_STRINGS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            return f"{key}: expected a string or null, found {_shown(value)}"
    commands = data.get("commands")
    if not isinstance(commands, list):
        return f"commands: expected a list, found {_shown(commands)}"
    for position, item in enumerate(commands):
        problem = _command_problem(item)
        if problem is not None:
            return f"commands[{position}]{problem}"
    for key in _LISTS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(i, Mapping) for i in value):
            return f"{key}: expected a list of objects, found {_shown(value)}"
    return None


def present_field_problem(data: Mapping[str, Any]) -> str | None:
    """Like ``manifest_problem``, but only for the fields ``data`` has (older layouts
    leave some out): what a reader refuses to show as if it were a run."""
    filled: dict[str, Any] = {"status": "queued", "commands": []}
    filled |= dict.fromkeys(_REQUIRED_STRINGS, "unknown")
    filled |= {key: value for key, value in data.items() if value is not None}
    return manifest_problem(filled)


def _command_problem(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return f": expected an object, found {_shown(item)}"
    if not isinstance(item.get("id"), str) or not item["id"]:
        return f".id: expected a non-empty string, found {_shown(item.get('id'))}"
    status = item.get("status")
    if not isinstance(status, str) or status not in set(CommandStatus):
        return f".status: expected one of {'|'.join(CommandStatus)}, found {_shown(status)}"
    kind = item.get("kind", StageKind.COMMAND.value)
    if not isinstance(kind, str) or kind not in set(StageKind):
        return f".kind: expected one of {'|'.join(StageKind)}, found {_shown(kind)}"
    return None


def _shown(value: Any) -> str:
    """A short rendering of a bad value (never its whole content)."""
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
