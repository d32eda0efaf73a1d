"""The core of ``artifacts watch|open|edit|seal``: one function per command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.artifacts.live import HandedOver
from codex_orchestrator.artifacts.runs import RunArtifacts, open_ref, open_run
from codex_orchestrator.artifacts.sealrun import RunSealResult
from codex_orchestrator.artifacts.watch import ChangeEvent
from codex_orchestrator.errors import ExitCode, InvalidInput, OrchestratorError
from codex_orchestrator.store.layout import RunsLayout


class RunLost(OrchestratorError):
    """The run's runner is gone without ending it: watching stops, exit 1."""

    exit_code = ExitCode.RUN_FAILED


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveRequest:
    """``--run ID [--task T]``, and for open/edit the ``<instance>/<path>`` named."""

    root: Path
    run_id: str
    task: str | None = None
    path: str = ""
    config: Path | None = None


def _open(request: LiveRequest) -> RunArtifacts:
    return open_run(RunsLayout.for_root(request.root), request.run_id, request.task)


def watch(request: LiveRequest, emit: Callable[[ChangeEvent], None]) -> ExitCode:
    """Report changes to the run's live workspaces until it ends (1 if its runner is lost)."""
    from codex_orchestrator.artifacts.watch import watch_changes

    run = _open(request)
    state = {"run": run}

    def ended() -> bool:
        try:
            state["run"] = open_ref(run.layout, run.ref)
        except OrchestratorError:
            return False  # a manifest being replaced: look again at the next tick
        return not state["run"].live

    for event in watch_changes(run.paths.instances_dir, ended):
        emit(event)
    if not state["run"].manifest.status.terminal:
        raise RunLost(
            f"run {run.ref.run_id} is lost: its runner is gone "
            f"(codex-orchestrator resume --run {run.ref.run_id} --task {run.ref.task_id})"
        )
    return ExitCode.OK


def open_or_edit(request: LiveRequest, *, edit: bool) -> HandedOver:
    """Hand ``<instance>/<path>`` to the opener or the editor, without waiting."""
    from codex_orchestrator.artifacts.listing import split_artifact_path
    from codex_orchestrator.artifacts.live import hand_over, live_target

    run = _open(request)
    if run.packed:
        raise InvalidInput(
            f"run {run.ref.run_id} is packed; read its files with 'artifacts get' instead"
        )
    instance_id, relative = split_artifact_path(run, request.path)
    instance = run.paths.instance_by_id(instance_id)
    live = run.live and not instance.metadata.exists()
    target = live_target(instance.workspace, relative, name=request.path, live=live, edit=edit)
    return hand_over(request.path, target, edit=edit)


def seal(request: LiveRequest) -> RunSealResult:
    """``artifacts seal --run ID``: seal (or finish sealing) a finished run and its children."""
    from codex_orchestrator.artifacts.prune import prune_lock, run_unlocked
    from codex_orchestrator.artifacts.sealrun import seal_run
    from codex_orchestrator.config import load_config, resolve_config_path
    from codex_orchestrator.store.catalog import SOURCE_CLI
    from codex_orchestrator.store.manifest import record_extra_fields

    config = load_config(resolve_config_path(request.config, request.root), request.root)
    settings = config.artifacts.seal
    if settings is None:
        raise InvalidInput("sealing is not configured: set artifacts.seal.recipients in the config")
    layout = RunsLayout.for_root(request.root)
    top = open_run(layout, request.run_id, request.task, config.artifacts.dir)
    total = RunSealResult(run_id=top.ref.run_id)
    with prune_lock(layout):
        for run in _with_children(top, config.artifacts.dir):
            with run_unlocked(run) as free:
                if not free or run.live:
                    raise InvalidInput(
                        f"run {run.ref.run_id} is still in progress; it is sealed when it ends"
                    )
                result = seal_run(run, settings)
            if run.ref.source == SOURCE_CLI:
                record_extra_fields(run.ref.manifest_path, result.manifest_fields())
            total.sealed += result.sealed
            total.already_sealed += result.already_sealed
            total.failed += result.failed
    return total


def _with_children(run: RunArtifacts, configured_dir: str | None) -> list[RunArtifacts]:
    """The run's child runs (deepest first), then the run: children are mirrored into it."""
    ordered: list[RunArtifacts] = []
    for child in run.manifest.child_runs:
        try:
            found = open_run(run.layout, child.run_id, run.ref.task_id, configured_dir)
        except OrchestratorError:
            continue
        ordered += _with_children(found, configured_dir)
    return [*ordered, run]
