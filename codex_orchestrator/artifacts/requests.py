"""What each ``artifacts`` command asks for, and the core functions they call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.records import CollectResult
from codex_orchestrator.artifacts.runs import RunArtifacts, open_run
from codex_orchestrator.model.artifacts import ArtifactSettings, Retention
from codex_orchestrator.store.layout import RunsLayout


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """A command about one run: ``--run ID [--task T]``."""

    root: Path
    run_id: str
    task: str | None = None
    config: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneRequest:
    """``artifacts prune``: the flags given (None: not given)."""

    root: Path
    older_than_days: float | None
    keep_last: int | None
    max_size: int | None
    dry_run: bool
    config: Path | None = None


def settings_for(root: Path, config: Path | None, warn: Callable[[str], None]) -> ArtifactSettings:
    """The config's ``artifacts`` settings; defaults (with a warning) if it cannot be read."""
    from codex_orchestrator.config import load_config, resolve_config_path
    from codex_orchestrator.errors import ConfigError

    try:
        return load_config(resolve_config_path(config, root), root).artifacts
    except ConfigError as exc:
        warn(f"{exc.message} (artifacts settings ignored)")
        return ArtifactSettings()


def collect_run(request: RunRequest, warn: Callable[[str], None]) -> CollectResult:
    """``artifacts collect --run ID``: rebuild a run's collected files and index."""
    from codex_orchestrator.artifacts.collect import collect
    from codex_orchestrator.artifacts.runs import ARTIFACTS_PATH_KEY
    from codex_orchestrator.store.catalog import SOURCE_CLI
    from codex_orchestrator.store.manifest import record_extra_fields

    settings = settings_for(request.root, request.config, warn)
    layout = RunsLayout.for_root(request.root)
    run = open_run(layout, request.run_id, request.task, settings.dir)
    result = collect(run)
    ours = str(run.raw.get("runner_version") or "").startswith("codex-orchestrator")
    # Manifests other tools wrote (legacy layouts, even migrated) are never rewritten.
    if ours and run.ref.source == SOURCE_CLI and not run.live and result.instances_count:
        record_extra_fields(
            run.ref.manifest_path,
            {ARTIFACTS_PATH_KEY: result.artifacts_path},
        )
        _set_summary_path(run)
    return result


def _set_summary_path(run: RunArtifacts) -> None:
    from codex_orchestrator.store.manifest import read_manifest, write_lock, write_manifest

    with write_lock(run.ref.manifest_path):
        manifest = read_manifest(run.ref.manifest_path)
        summary = run.layout.relative(run.paths.summary)
        write_manifest(run.ref.manifest_path, manifest.replace(run_summary_path=summary))


def prune_request_retention(request: PruneRequest, warn: Callable[[str], None]) -> Retention:
    """The flags given, else the config's retention, else nothing."""
    if (
        request.older_than_days is not None
        or request.keep_last is not None
        or request.max_size is not None
    ):
        return Retention(
            days=request.older_than_days, keep_last=request.keep_last, max_size=request.max_size
        )
    return settings_for(request.root, request.config, warn).retention


def layout_of(root: Path) -> RunsLayout:
    """The ``.runs`` layout of a repo root."""
    return RunsLayout.for_root(root)


def run_of(request: RunRequest) -> RunArtifacts:
    """The run a request names."""
    return open_run(layout_of(request.root), request.run_id, request.task)


def as_rows(items: list[Any]) -> list[dict[str, Any]]:
    """``to_dict()`` of each item."""
    return [item.to_dict() for item in items]
