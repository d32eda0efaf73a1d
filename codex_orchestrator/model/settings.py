"""Settings of the layers above the runner: the git artifact store and log masking."""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_MASK_ENV = ("*TOKEN*", "*SECRET*", "*PASSWORD*", "*_KEY")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    """Config ``store``: where and how the git artifact store commits (LAYERS.md section 4)."""

    path: str = "artifacts/{task_id}"
    branch_prefix: str = "ai/generated"
    author: str = "codex-orchestrator-bot"
    sign: bool = False
    auto_push: bool = True
    remote: str = "origin"
    push_timeout_seconds: float = 30.0
    scan_secrets: bool = True
    secret_patterns: tuple[str, ...] = ()
    # None: required for ``store commit --run`` and pipeline commits, not for plain files.
    require_correlation_id: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretsSettings:
    """Config ``secrets``: which environment variables' values are masked in logs."""

    mask_env: tuple[str, ...] = DEFAULT_MASK_ENV


class StoreWhen(enum.StrEnum):
    """When a pipeline's ``store`` commits the run's kept artifacts."""

    SUCCESS = "success"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineStore:
    """A pipeline's ``store`` key: commit the run's kept artifacts when it ends."""

    when: StoreWhen = StoreWhen.SUCCESS
    workflow: str | None = None  # default: the pipeline id
    # May hold {run_id}, {task_id}, {pipeline_id} and {env:NAME}; default: {run_id}.
    correlation_id: str | None = None
