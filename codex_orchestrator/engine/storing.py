"""The engine's hook into the git artifact store: a pipeline's ``store`` key, at the run's end.

The run's kept artifacts (collected just before) are committed onto the store branch;
the result goes into the manifest (``store``) and an ``artifact:committed`` event. A
refused commit (a secret found, a correlation id already tagged) fails the run, with a
summary line saying why; a failed push is only a warning.
"""

from __future__ import annotations

import os
from typing import Any

from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import Pipeline, RunManifest, RunStatus, StoreWhen

STORE_KEY = "store"
REFUSED_DETAIL = "store-refused"
GUARDRAILS_PREFIX = "Guardrails:"


def store_at_run_end(
    ctx: RunContext, pipeline: Pipeline, manifest: RunManifest
) -> tuple[RunManifest, list[str]]:
    """Commit the run's kept artifacts if the pipeline asks; the manifest and warnings."""
    wanted = pipeline.store
    if wanted is None or ctx.parent is not None:
        return manifest, []  # a child's artifacts are committed with its parent's
    if wanted.when is StoreWhen.SUCCESS and manifest.status is not RunStatus.SUCCEEDED:
        return manifest, []
    from codex_orchestrator.artifacts.store_commit import failed_document

    warnings: list[str] = []
    try:
        document = _commit(ctx, pipeline, manifest)
    except OrchestratorError as exc:
        message = ctx.settings.masked(exc.message)
        document = failed_document(message)
        line = f"Store: commit refused: {message}"
        manifest = manifest.replace(
            status=RunStatus.FAILED,
            status_detail=REFUSED_DETAIL,
            summary=_with_line(manifest.summary, line),
        )
    else:
        error = document["push_error"]
        pushed = "pushed" if document["pushed"] else "not pushed" + (f": {error}" if error else "")
        if error:
            warnings.append(f"store: committed locally; {pushed}")
        line = (
            f"Store: committed {len(document['files'])} files to {document['branch']} as "
            f"{str(document['commit_sha'])[:12]} ({', '.join(document['tags'])}; {pushed})"
        )
        manifest = manifest.replace(summary=_with_line(manifest.summary, line))
    manifest = manifest.replace(extra={**manifest.extra, STORE_KEY: document})
    ctx.events.event("artifact:committed", **document)
    return manifest, warnings


def _commit(ctx: RunContext, pipeline: Pipeline, manifest: RunManifest) -> dict[str, Any]:
    from codex_orchestrator.artifacts.store_commit import StoreCommitRequest, store_commit
    from codex_orchestrator.artifacts.store_run import (
        expand_correlation,
        kept_files,
        test_metrics,
    )
    from codex_orchestrator.engine.keeping import run_artifacts

    wanted = pipeline.store
    assert wanted is not None  # noqa: S101 - checked by the caller
    run = run_artifacts(ctx, manifest)
    template = wanted.correlation_id or "{run_id}"
    request = StoreCommitRequest(
        cwd=ctx.settings.layout.root,
        settings=ctx.settings.config.store,
        workflow_id=wanted.workflow or pipeline.id,
        task_id=manifest.task_id,
        files=kept_files(run),
        run_id=manifest.run_id,
        correlation_id=expand_correlation(template, manifest, os.environ),
        test_metrics=test_metrics(manifest),
        require_correlation_id=True,
    )
    return store_commit(request).document()


def _with_line(summary: str | None, line: str) -> str:
    """The summary with ``line`` added before the closing guardrails line."""
    lines = summary.split("\n") if summary else []
    at = len(lines) - 1 if lines and lines[-1].startswith(GUARDRAILS_PREFIX) else len(lines)
    lines.insert(at, line)
    return "\n".join(lines)
