"""Pipelines as configured: stages, pipelines and the loaded config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from codex_orchestrator.model.artifacts import ArtifactSettings
from codex_orchestrator.model.executor import ExecutorConfig
from codex_orchestrator.model.records import ReportFormat, StageKind
from codex_orchestrator.model.registry import Gate, Registry
from codex_orchestrator.model.settings import PipelineStore, SecretsSettings, StoreSettings

GUARDRAIL_MARKER = "spec-guard"
# A stage's ``if``: when it runs, given how the stages it needs ended.
IF_SUCCESS = "success"
IF_ALWAYS = "always"
IF_FAILURE = "failure"
GATE_PREFIX = "gate:"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandStage:
    """A shell command to run."""

    id: str
    title: str
    command: str
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    allow_failure: bool = False
    summary_hint: str | None = None
    timeout_ms: int | None = None
    # ``artifacts``: globs (relative to the cwd, ``**`` allowed) kept after the stage.
    artifacts: tuple[str, ...] = ()
    # The graph keys (LAYERS.md section 1): run after ``needs``, under ``condition``
    # (the ``if`` key); registry artifacts it ``produces`` and ``consumes``.
    needs: tuple[str, ...] = ()
    condition: str = IF_SUCCESS
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    # What the stage needs of a Dask worker (e.g. {"cpu": 2}); the local executor ignores it.
    resources: Mapping[str, float] = field(default_factory=dict)
    # Set by the embedded diagnostics pipeline for checks that are not present:
    # the stage is recorded as skipped with this text as its summary.
    skip_reason: str | None = None
    # Set by ``exec``: run these arguments directly, not through a shell, so the
    # command's own exit status (and signal) is what gets recorded.
    argv: tuple[str, ...] | None = None

    @property
    def kind(self) -> StageKind:
        """Always ``command``."""
        return StageKind.COMMAND

    @property
    def is_guardrail(self) -> bool:
        """A stage is a guardrail when its id, title or command names spec-guard."""
        return any(GUARDRAIL_MARKER in text.lower() for text in (self.id, self.title, self.command))


@dataclass(frozen=True, slots=True, kw_only=True)
class SubpipelineStage:
    """Another pipeline, run as a child run."""

    id: str
    title: str
    pipeline: str
    optional: bool = False
    needs: tuple[str, ...] = ()
    condition: str = IF_SUCCESS
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()

    @property
    def kind(self) -> StageKind:
        """Always ``subpipeline``."""
        return StageKind.SUBPIPELINE

    @property
    def is_guardrail(self) -> bool:
        """A subpipeline is a guardrail when its id or title names spec-guard."""
        return any(GUARDRAIL_MARKER in text.lower() for text in (self.id, self.title))


Stage = CommandStage | SubpipelineStage


@dataclass(frozen=True, slots=True, kw_only=True)
class Pipeline:
    """A named, ordered list of stages (stage sets already expanded)."""

    id: str
    title: str
    stages: tuple[Stage, ...]
    description: str | None = None
    guardrails_required: bool | None = None
    jobs: int | None = None
    store: PipelineStore | None = None

    @property
    def is_graph(self) -> bool:
        """Whether any stage has ``needs`` (or an ``if``); otherwise stages form a chain."""
        return any(stage.needs or stage.condition != IF_SUCCESS for stage in self.stages)

    @property
    def requires_guardrails(self) -> bool:
        """Explicit ``guardrailsRequired`` wins; otherwise any guardrail stage requires it."""
        if self.guardrails_required is not None:
            return self.guardrails_required
        return any(stage.is_guardrail for stage in self.stages)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """A loaded ``codex.orchestrator.json`` (or the embedded defaults)."""

    path: str | None
    default_pipeline: str | None
    pipelines: Mapping[str, Pipeline]
    warnings: tuple[str, ...] = ()
    store: StoreSettings = field(default_factory=StoreSettings)
    secrets: SecretsSettings = field(default_factory=SecretsSettings)
    artifacts: ArtifactSettings = field(default_factory=ArtifactSettings)
    registry: Registry | None = None
    gates: tuple[Gate, ...] = ()
    # Written beside the manifest at the end of every run (config ``reports``).
    reports: tuple[ReportFormat, ...] = ()
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
