"""Entry points of ``start`` and ``exec``: resolve the request, then drive the run."""

from __future__ import annotations

import shlex
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codex_orchestrator.config import load_run_config, select_pipeline
from codex_orchestrator.engine.context import run_settings
from codex_orchestrator.engine.observer import RunObserver
from codex_orchestrator.engine.result import RunResult
from codex_orchestrator.engine.runlock import hold_run_lock
from codex_orchestrator.engine.runner import attach_to_parent, start_run
from codex_orchestrator.errors import ConfigError, ExitCode, InvalidInput, RunNotFound
from codex_orchestrator.executors.select import ExecutorChoice, open_executor, resolve_executor
from codex_orchestrator.model import CommandStage, CommandStatus, Config, Pipeline, RunStatus
from codex_orchestrator.store.layout import RunsLayout, resolve_task_id, validate_run_id
from codex_orchestrator.store.manifest import read_manifest

EXEC_PIPELINE_ID = "exec"


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRequest:
    """What ``start`` was asked to do."""

    root: Path
    pipeline: str | None = None
    task: str | None = None
    config: Path | None = None
    parent_run: str | None = None
    stage_timeout_ms: int | None = None
    jobs: int | None = None
    fail_fast: bool = False
    approval_policy: str | None = None
    target: str | None = None
    issue_provider: str | None = None
    issue_id: str | None = None
    issue_identifier: str | None = None
    issue_updated_at: str | None = None
    repo_config_required: bool = False
    executor: ExecutorChoice = field(default_factory=ExecutorChoice)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecRequest:
    """What ``exec`` was asked to do."""

    root: Path
    argv: Sequence[str]
    task: str | None = None
    stage_timeout_ms: int | None = None


def launch(request: StartRequest, observer: RunObserver, warn: Callable[[str], None]) -> RunResult:
    """Run a configured pipeline (config problems are reported before anything is written)."""
    from codex_orchestrator.config import DEFAULT_CONFIG_NAME

    task_id = resolve_task_id(request.task)
    config, config_path = load_run_config(request.root, request.config, warn)
    if request.repo_config_required and config_path is None:
        raise ConfigError(
            f"--repo-config-required: no {DEFAULT_CONFIG_NAME} at {request.root} "
            "(the built-in pipelines are not used)"
        )
    pipeline = select_pipeline(config, request.pipeline)
    recorded = {
        "approval_policy": request.approval_policy,
        "plan_target_id": _target_id(pipeline, request.target),
        "issue_provider": request.issue_provider,
        "issue_id": request.issue_id,
        "issue_identifier": request.issue_identifier,
        "issue_updated_at": request.issue_updated_at,
    }
    layout = RunsLayout.for_root(request.root)
    executor_config = resolve_executor(request.executor, config.executor)
    with (
        open_executor(executor_config) as executor,
        run_settings(
            layout,
            config,
            config_path,
            observer,
            request.stage_timeout_ms,
            jobs=request.jobs,
            fail_fast=request.fail_fast,
            executor=executor,
        ) as settings,
    ):
        if request.parent_run is None:
            return start_run(settings, pipeline, task_id, recorded=recorded)
        parent_paths = layout.run(task_id, validate_run_id(request.parent_run))
        if not parent_paths.manifest.is_file():
            raise RunNotFound(f"parent run {request.parent_run} not found in task {task_id}")
        read_manifest(parent_paths.manifest)  # a manifest we could not write back: exit 2
        with hold_run_lock(parent_paths):
            result = start_run(
                settings, pipeline, task_id, parent_run_id=request.parent_run, recorded=recorded
            )
            attach_to_parent(parent_paths, result)
        return result


def launch_exec(request: ExecRequest, observer: RunObserver) -> RunResult:
    """Run one command with full evidence, as a one-stage run of pipeline ``exec``."""
    if not request.argv:
        raise InvalidInput(
            "exec needs a command after --, e.g. codex-orchestrator exec -- make test"
        )
    command = shlex.join(request.argv)
    pipeline = Pipeline(
        id=EXEC_PIPELINE_ID,
        title=command,
        stages=(
            CommandStage(
                id=EXEC_PIPELINE_ID, title=command, command=command, argv=tuple(request.argv)
            ),
        ),
        guardrails_required=False,
    )
    config = Config(path=None, default_pipeline=None, pipelines={EXEC_PIPELINE_ID: pipeline})
    layout = RunsLayout.for_root(request.root)
    with run_settings(layout, config, None, observer, request.stage_timeout_ms) as settings:
        return start_run(settings, pipeline, resolve_task_id(request.task))


def exec_exit_code(result: RunResult) -> int:
    """The command's own exit code (128 + signal when a signal ended it)."""
    manifest = result.manifest
    if manifest.status is RunStatus.CANCELLED:
        return int(ExitCode.CANCELLED)
    record = manifest.commands[0]
    if record.exit_code is not None:
        return record.exit_code
    if record.signal:
        try:
            return 128 + int(signal.Signals[record.signal])
        except KeyError:
            return int(ExitCode.RUN_FAILED)
    if record.status is CommandStatus.FAILED and record.exit_code is None:
        return 127  # could not be started (not found, not executable), as a shell says
    return int(ExitCode.RUN_FAILED)


def _target_id(pipeline: Pipeline, target: str | None) -> str | None:
    if target is None:
        return None  # the planning module is not imported for nothing
    from codex_orchestrator.planning import target_id

    return target_id(pipeline, target)
