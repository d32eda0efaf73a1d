"""A run's kept artifacts as files to commit: ``<instance>/<path>``, with run metrics."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from codex_orchestrator.artifacts.blobs import CommitFile
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import CommandStatus, RunManifest

if TYPE_CHECKING:
    from codex_orchestrator.artifacts.runs import RunArtifacts

_PLACEHOLDER = re.compile(r"\{(run_id|task_id|pipeline_id|env:[A-Za-z_][A-Za-z0-9_]*)\}")


def kept_files(run: RunArtifacts) -> tuple[CommitFile, ...]:
    """Every kept file of the run (children's too), read from its instance's workspace."""
    from codex_orchestrator.artifacts.listing import ls

    if run.pruned_at:
        raise InvalidInput(f"run {run.ref.run_id}: its artifacts were pruned at {run.pruned_at}")
    if run.packed:
        raise InvalidInput(
            f"run {run.ref.run_id}: its artifacts are packed (artifacts.tar.zst); "
            "commit them before packing"
        )
    files: list[CommitFile] = []
    for listed in ls(run):
        entry = listed.entry
        name = f"{entry.instance}/{entry.path}"
        source = run.paths.instance_by_id(entry.instance).workspace / entry.path
        if not os.path.lexists(source):
            raise InvalidInput(f"run {run.ref.run_id}: kept file {name} is missing (sealed?)")
        files.append(CommitFile(path=name, source=source, shown=name))
    return tuple(files)


def test_metrics(manifest: RunManifest) -> dict[str, Any]:
    """What metadata.json's ``test_metrics`` says about a run: its stages' outcomes."""
    counts = dict.fromkeys(CommandStatus, 0)
    for record in manifest.commands:
        counts[record.status] += 1
    return {
        "status": str(manifest.status),
        "commands_total": len(manifest.commands),
        "commands_passed": counts[CommandStatus.SUCCEEDED],
        "commands_failed": counts[CommandStatus.FAILED],
        "commands_skipped": counts[CommandStatus.SKIPPED],
    }


def expand_correlation(template: str, manifest: RunManifest, env: Mapping[str, str]) -> str:
    """A pipeline's ``correlationId`` with ``{run_id}``, ``{task_id}``, ... filled in."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("env:"):
            value = env.get(name.removeprefix("env:"), "")
            if not value:
                raise InvalidInput(f"correlationId: ${name.removeprefix('env:')} is not set")
            return value
        return {
            "run_id": manifest.run_id,
            "task_id": manifest.task_id,
            "pipeline_id": manifest.pipeline_id,
        }[name]

    return _PLACEHOLDER.sub(fill, template)
