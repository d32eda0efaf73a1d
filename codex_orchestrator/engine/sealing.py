"""The engine's hook into sealed artifacts: seal a run's kept files when it ends."""

from __future__ import annotations

from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.model import RunManifest


def seal_run_end(ctx: RunContext, manifest: RunManifest) -> tuple[RunManifest, list[str]]:
    """Seal the finished run when ``artifacts.seal`` is configured; manifest and warnings.

    Whatever goes wrong, the plaintext stays and the manifest says ``seal-failed``
    with the reason; ``artifacts seal --run ID`` retries.
    """
    settings = ctx.settings.config.artifacts.seal
    if settings is None:
        return manifest, []
    from codex_orchestrator.artifacts.sealrun import (
        ERROR_KEY,
        SEAL_FAILED,
        STATUS_KEY,
        seal_run,
    )
    from codex_orchestrator.engine.keeping import run_artifacts

    run = run_artifacts(ctx, manifest)
    try:
        fields = seal_run(run, settings).manifest_fields()
    except Exception as exc:  # never let sealing break the run's end: record it instead
        reason = exc.message if isinstance(exc, OrchestratorError) else f"{exc!r}"
        fields = {STATUS_KEY: SEAL_FAILED, ERROR_KEY: reason}
    warnings = []
    if fields[STATUS_KEY] == SEAL_FAILED:
        warnings.append(
            f"sealing artifacts failed: {fields[ERROR_KEY]}; the plaintext stays (0700); "
            f"retry with 'codex-orchestrator artifacts seal --run {ctx.paths.run_id}'"
        )
    return manifest.replace(extra={**manifest.extra, **fields}), warnings
