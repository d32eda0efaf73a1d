"""Domain records: pipelines as configured, and the run manifest as persisted.

The package is split along its seams (``times``, ``pipeline``, ``records``,
``manifest``); every public name is importable from ``codex_orchestrator.model``.
"""

from codex_orchestrator.model.executor import ExecutorConfig, ExecutorKind
from codex_orchestrator.model.manifest import (
    HEARTBEAT_INTERVAL_SECONDS,
    HEARTBEAT_STALE_AFTER_SECONDS,
    MANIFEST_VERSION,
    RUNNER_FAMILY,
    RunManifest,
)
from codex_orchestrator.model.pipeline import (
    GUARDRAIL_MARKER,
    CommandStage,
    Config,
    Pipeline,
    Stage,
    SubpipelineStage,
)
from codex_orchestrator.model.records import (
    ChildRun,
    CommandRecord,
    CommandStatus,
    ErrorReason,
    ReportFormat,
    Resources,
    ResumeEvent,
    RunStatus,
    StageKind,
)
from codex_orchestrator.model.settings import (
    DEFAULT_MASK_ENV,
    PipelineStore,
    SecretsSettings,
    StoreSettings,
    StoreWhen,
)
from codex_orchestrator.model.times import format_iso, now_iso, parse_iso

__all__ = [
    "DEFAULT_MASK_ENV",
    "GUARDRAIL_MARKER",
    "HEARTBEAT_INTERVAL_SECONDS",
    "HEARTBEAT_STALE_AFTER_SECONDS",
    "MANIFEST_VERSION",
    "RUNNER_FAMILY",
    "ChildRun",
    "CommandRecord",
    "CommandStage",
    "CommandStatus",
    "Config",
    "ErrorReason",
    "ExecutorConfig",
    "ExecutorKind",
    "Pipeline",
    "PipelineStore",
    "ReportFormat",
    "Resources",
    "ResumeEvent",
    "RunManifest",
    "RunStatus",
    "SecretsSettings",
    "Stage",
    "StageKind",
    "StoreSettings",
    "StoreWhen",
    "SubpipelineStage",
    "format_iso",
    "now_iso",
    "parse_iso",
]
