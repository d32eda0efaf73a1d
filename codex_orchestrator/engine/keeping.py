"""The engine's hooks into kept artifacts: open a stage's instance, keep it, collect the run."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from codex_orchestrator.artifacts.objects import ObjectStore
from codex_orchestrator.artifacts.stagekeep import StageArtifacts, StagedInstance
from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.prepare import Order
from codex_orchestrator.errors import OrchestratorError, StoreError
from codex_orchestrator.model import CommandRecord, CommandStage, RunManifest
from codex_orchestrator.store.catalog import SOURCE_CLI, RunRef
from codex_orchestrator.store.layout import ArtifactPaths, command_file_stem

if TYPE_CHECKING:
    from codex_orchestrator.artifacts.runs import RunArtifacts

ARTIFACTS_PATH_KEY = "artifacts_path"


def run_ref(ctx: RunContext) -> RunRef:
    """This run, as the artifact readers name a run."""
    return RunRef(
        task_id=ctx.paths.task_id,
        run_id=ctx.paths.run_id,
        manifest_path=ctx.paths.manifest,
        source=SOURCE_CLI,
    )


def run_artifact_paths(ctx: RunContext) -> ArtifactPaths:
    """Where this run keeps artifacts: as its manifest records, else as configured
    (decided once per run: stages reuse it)."""
    from codex_orchestrator.artifacts.runs import artifact_paths

    cached = ctx.cache.get("artifact_paths")
    if cached is None:
        raw = dict(ctx.manifest.extra)
        layout = ctx.settings.layout
        cached = artifact_paths(layout, run_ref(ctx), raw, ctx.settings.config.artifacts.dir)
        ctx.cache["artifact_paths"] = cached
    return cached


def run_artifacts(ctx: RunContext, manifest: RunManifest) -> RunArtifacts:
    """This run's kept artifacts as the artifact readers and writers take them."""
    from codex_orchestrator.artifacts.runs import RunArtifacts

    return RunArtifacts(
        layout=ctx.settings.layout,
        ref=run_ref(ctx),
        raw=manifest.to_dict(),
        manifest=manifest,
        paths=run_artifact_paths(ctx),
    )


def _store(ctx: RunContext, paths: ArtifactPaths) -> ObjectStore:
    from codex_orchestrator.artifacts.runs import moved_root_of

    store = ctx.cache.get("object_store")
    if store is None:
        layout = ctx.settings.layout
        store = ObjectStore(layout.objects_dir(moved_root_of(layout, paths)))
        ctx.cache["object_store"] = store
    return store


def open_stage(
    ctx: RunContext, record: CommandRecord, staged: StagedInstance | None = None
) -> StageArtifacts:
    """The instance of a stage about to run: empty workspace, open ``output.log``
    (moved into place from ``staged`` when it was made ahead)."""
    paths = run_artifact_paths(ctx)
    manifest = ctx.manifest
    recorded = ctx.settings.layout.relative(paths.root)
    if manifest.extra.get(ARTIFACTS_PATH_KEY) != recorded:
        ctx.update(manifest.replace(extra={**manifest.extra, ARTIFACTS_PATH_KEY: recorded}))
    try:
        return StageArtifacts.open(
            paths.instance(command_file_stem(record.index, record.id)), _store(ctx, paths), staged
        )
    except OSError as exc:
        raise StoreError(
            f"cannot create the stage's workspace under {paths.root}: {exc.strerror or exc}"
        ) from exc


def staging_order(ctx: RunContext, index: int, stage_id: str) -> Order:
    """What to make ahead for stage ``index`` (engine/prepare.py)."""
    stem = command_file_stem(index, stage_id)
    return Order(
        index=index,
        command_log=ctx.paths.command_log(index, stage_id),
        staging=run_artifact_paths(ctx).staging_dir / stem,
    )


def remember_kept(ctx: RunContext, kept: StageArtifacts) -> None:
    """Note what a finished stage kept, for the run-end collect (no reading it back)."""
    if kept.result is not None:
        ctx.cache.setdefault("kept", {})[kept.instance.instance_id] = kept.result


def produced_paths(ctx: RunContext, stage: CommandStage) -> tuple[str, ...]:
    """Repository-relative paths of the registry artifacts ``stage`` produces (kept with it)."""
    registry = ctx.settings.config.registry
    if registry is None or not stage.produces:
        return ()
    specs = (registry.find(name) for name in stage.produces)
    return tuple(dict.fromkeys(spec.path for spec in specs if spec is not None))


def collect_run_end(ctx: RunContext, manifest: RunManifest) -> tuple[RunManifest, list[str]]:
    """Collect the finished run; the manifest with its artifact paths, and any warnings."""
    from codex_orchestrator.artifacts.collect import collect

    run = run_artifacts(ctx, manifest)
    paths = run.paths
    try:
        result = collect(run, search="next-search", known=ctx.cache.get("kept"))
    except (OSError, OrchestratorError) as exc:
        return manifest, [f"collecting artifacts failed: {exc}"]
    layout = ctx.settings.layout
    updated = manifest.replace(
        extra={**manifest.extra, ARTIFACTS_PATH_KEY: layout.relative(paths.root)},
        run_summary_path=layout.relative(paths.summary),
    )
    return updated, list(result.warnings)


def apply_retention_after(ctx: RunContext) -> list[str]:
    """The config's retention, after a top-level run (never this run's artifacts)."""
    retention = ctx.settings.config.artifacts.retention
    if ctx.parent is not None or (not retention.prunes and retention.compress_after_days is None):
        return []
    from codex_orchestrator.artifacts.retention import apply_retention

    with contextlib.suppress(Exception):
        return apply_retention(ctx.settings.layout, retention, ctx.paths.run_id)
    return ["artifacts retention failed"]
