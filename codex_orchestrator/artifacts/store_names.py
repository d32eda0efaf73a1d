"""Names in the artifact store: branches, tags, the store path, commit trailers."""

from __future__ import annotations

import re
from collections.abc import Mapping

from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import StoreSettings
from codex_orchestrator.store.layout import validate_task_id

CORR_PREFIX = "corr_"
PROMPT_PREFIX = "prompt_"
METADATA_NAME = "metadata.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

TRAILERS = {
    "workflow_id": "Workflow-Id",
    "task_id": "Task-Id",
    "run_id": "Run-Id",
    "correlation_id": "Correlation-Id",
    "prompt_hash": "Prompt-Hash",
    "store_path": "Store-Path",
    "branch": "Branch",
}


def check_name(value: str, what: str) -> str:
    """``value`` if it is safe in a branch or tag name (letters, digits, ``._-``), else exit 2."""
    if not _NAME.match(value) or ".." in value or value.endswith((".lock", ".")):
        raise InvalidInput(
            f"invalid {what} {value!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit, at most 128)"
        )
    return value


def check_task(task_id: str) -> str:
    """A task id that is both a safe path segment and a safe ref component."""
    return check_name(validate_task_id(task_id), "task id")


def branch_name(settings: StoreSettings, workflow_id: str, task_id: str) -> str:
    """``<branchPrefix>/<workflow>/<task>``."""
    return f"{settings.branch_prefix}/{workflow_id}/{task_id}"


def store_path(settings: StoreSettings, workflow_id: str, task_id: str) -> str:
    """The directory a commit replaces: ``store.path`` with its placeholders filled."""
    return settings.path.replace("{task_id}", task_id).replace("{workflow_id}", workflow_id)


def correlation_tag(correlation_id: str) -> str:
    """``corr_<id>``, not prefixed twice."""
    bare = correlation_id.removeprefix(CORR_PREFIX)
    return CORR_PREFIX + check_name(bare, "correlation id")


def prompt_tag(prompt_hash: str) -> str:
    """``prompt_<hash>``."""
    return PROMPT_PREFIX + check_name(prompt_hash.removeprefix(PROMPT_PREFIX), "prompt hash")


def message(subject: str, fields: Mapping[str, str | None]) -> bytes:
    """A commit message: the subject, then one trailer per known, non-empty field."""
    trailers = [f"{TRAILERS[key]}: {value}" for key, value in fields.items() if value]
    return (f"{subject}\n\n" + "\n".join(trailers) + "\n").encode()


def trailer_format() -> str:
    """A ``git log --format``: sha, date, author and every trailer, 0x1f-separated."""
    parts = ["%H", "%cI", "%an <%ae>"]
    parts += [f"%(trailers:key={name},valueonly=true,separator=%x2c)" for name in TRAILERS.values()]
    return "%x1f".join(parts) + "%x1e"


def parse_trailer_records(output: str) -> list[dict[str, str | None]]:
    """Records printed with :func:`trailer_format`."""
    records: list[dict[str, str | None]] = []
    for chunk in output.split("\x1e"):
        fields = chunk.strip("\n").split("\x1f")
        if len(fields) != 3 + len(TRAILERS):
            continue
        record: dict[str, str | None] = {
            "commit_sha": fields[0],
            "committed_at": fields[1],
            "author": fields[2],
        }
        for key, value in zip(TRAILERS, fields[3:], strict=True):
            record[key] = value.strip() or None
        records.append(record)
    return records
