"""Domain records: pipelines as configured, and the run manifest as persisted.

Field names of the manifest follow the TypeScript tool's published schema so that
tools reading its manifests read ours. Unknown keys of a read manifest are kept in
``extra`` and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

MANIFEST_VERSION = 1
HEARTBEAT_INTERVAL_SECONDS = 10
HEARTBEAT_STALE_AFTER_SECONDS = 30
RUNNER_FAMILY = "codex-cli"
GUARDRAIL_MARKER = "spec-guard"

_E = TypeVar("_E", bound=enum.StrEnum)


def now_iso() -> str:
    """The current time as ISO-8601 UTC with milliseconds and ``Z``."""
    return format_iso(datetime.now(UTC))


def format_iso(moment: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with milliseconds and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str | None) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` or offset); None when absent or malformed."""
    if not text or not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


class RunStatus(enum.StrEnum):
    """The state of a whole run."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the run has finished (for better or worse)."""
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class CommandStatus(enum.StrEnum):
    """The state of one stage of a run."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class StageKind(enum.StrEnum):
    """What a manifest command record stands for."""

    COMMAND = "command"
    SUBPIPELINE = "subpipeline"


class ErrorReason(enum.StrEnum):
    """Why an error file was written."""

    COMMAND_FAILED = "command-failed"
    COMMAND_TIMEOUT = "command-timeout"
    COMMAND_ALLOW_FAILURE = "command-allow-failure"
    SPAWN_ERROR = "spawn-error"
    CANCELLED = "cancelled"


class ReportFormat(enum.StrEnum):
    """The reports ``report --format`` renders and config ``reports`` writes after a run."""

    HTML = "html"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    TRACE = "trace"


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


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
    # Written beside the manifest at the end of every run (config ``reports``).
    reports: tuple[ReportFormat, ...] = ()


# ---------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """CPU seconds and peak resident memory of a process tree."""

    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """As persisted."""
        return {"cpu_seconds": round(self.cpu_seconds, 3), "peak_rss_bytes": self.peak_rss_bytes}

    @classmethod
    def from_dict(cls, data: Any) -> Resources | None:
        """Tolerant reader: None when absent or malformed."""
        if not isinstance(data, Mapping):
            return None
        cpu = data.get("cpu_seconds", 0.0)
        rss = data.get("peak_rss_bytes", 0)
        if not isinstance(cpu, int | float) or not isinstance(rss, int):
            return None
        return cls(cpu_seconds=float(cpu), peak_rss_bytes=rss)

    def combine(self, other: Resources | None) -> Resources:
        """Totals for a run: CPU adds up, peak memory is the largest."""
        if other is None:
            return self
        return Resources(
            cpu_seconds=self.cpu_seconds + other.cpu_seconds,
            peak_rss_bytes=max(self.peak_rss_bytes, other.peak_rss_bytes),
        )


_COMMAND_KEYS = (
    "index",
    "id",
    "title",
    "command",
    "kind",
    "status",
    "started_at",
    "completed_at",
    "exit_code",
    "summary",
    "log_path",
    "error_file",
    "sub_run_id",
    "signal",
    "duration_ms",
    "resources",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRecord:
    """One stage of a run as the manifest records it."""

    index: int
    id: str
    title: str
    command: str | None
    kind: StageKind = StageKind.COMMAND
    status: CommandStatus = CommandStatus.PENDING
    started_at: str | None = None
    completed_at: str | None = None
    exit_code: int | None = None
    summary: str | None = None
    log_path: str | None = None
    error_file: str | None = None
    sub_run_id: str | None = None
    signal: str | None = None
    duration_ms: int | None = None
    resources: Resources | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As persisted (shared names first, then ours, then unknown keys kept)."""
        data: dict[str, Any] = {
            "index": self.index,
            "id": self.id,
            "title": self.title,
            "command": self.command,
            "kind": str(self.kind),
            "status": str(self.status),
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "log_path": self.log_path,
            "error_file": self.error_file,
            "sub_run_id": self.sub_run_id,
            "signal": self.signal,
            "duration_ms": self.duration_ms,
            "resources": self.resources.to_dict() if self.resources else None,
        }
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], position: int = 1) -> CommandRecord:
        """Tolerant reader: unknown values fall back to safe defaults, unknown keys kept."""
        index = data.get("index")
        return cls(
            index=index if isinstance(index, int) else position,
            id=_str_or(data.get("id"), f"command-{position}"),
            title=_str_or(data.get("title"), _str_or(data.get("id"), f"command-{position}")),
            command=_opt_str(data.get("command")),
            kind=_enum_or(StageKind, data.get("kind"), StageKind.COMMAND),
            status=_enum_or(CommandStatus, data.get("status"), CommandStatus.PENDING),
            started_at=_opt_str(data.get("started_at")),
            completed_at=_opt_str(data.get("completed_at")),
            exit_code=_opt_int(data.get("exit_code")),
            summary=_opt_str(data.get("summary")),
            log_path=_opt_str(data.get("log_path")),
            error_file=_opt_str(data.get("error_file")),
            sub_run_id=_opt_str(data.get("sub_run_id")),
            signal=_opt_str(data.get("signal")),
            duration_ms=_opt_int(data.get("duration_ms")),
            resources=Resources.from_dict(data.get("resources")),
            extra={k: v for k, v in data.items() if k not in _COMMAND_KEYS},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeEvent:
    """One resume attempt, accepted or blocked."""

    timestamp: str
    actor: str
    reason: str
    outcome: str  # "accepted" | "blocked"
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Exactly the TypeScript tool's keys."""
        return {
            "timestamp": self.timestamp,
            "actor": self.actor,
            "reason": self.reason,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildRun:
    """A subpipeline's run, as the parent manifest lists it."""

    run_id: str
    pipeline_id: str
    status: RunStatus
    manifest: str

    def to_dict(self) -> dict[str, Any]:
        """Exactly the TypeScript tool's keys."""
        return {
            "run_id": self.run_id,
            "pipeline_id": self.pipeline_id,
            "status": str(self.status),
            "manifest": self.manifest,
        }


_MANIFEST_KEYS = (
    "version",
    "task_id",
    "task_slug",
    "run_id",
    "parent_run_id",
    "pipeline_id",
    "pipeline_title",
    "runner",
    "approval_policy",
    "status",
    "status_detail",
    "started_at",
    "completed_at",
    "updated_at",
    "heartbeat_at",
    "heartbeat_interval_seconds",
    "heartbeat_stale_after_seconds",
    "artifact_root",
    "compat_path",
    "log_path",
    "summary",
    "metrics_recorded",
    "resume_token",
    "resume_events",
    "approvals",
    "commands",
    "child_runs",
    "run_summary_path",
    "plan_target_id",
    "runtime_mode_requested",
    "runtime_mode",
    "runtime_provider",
    "runtime_fallback",
    "instructions_hash",
    "instructions_sources",
    "guardrails_required",
    "runner_version",
    "runner_pid",
    "runner_create_time",
    "host",
    "config_path",
    "resources",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunManifest:
    """The state of one run: ``manifest.json``."""

    task_id: str
    run_id: str
    pipeline_id: str
    pipeline_title: str
    started_at: str
    updated_at: str
    artifact_root: str
    compat_path: str
    log_path: str
    resume_token: str
    version: int = MANIFEST_VERSION
    task_slug: str | None = None
    parent_run_id: str | None = None
    runner: str = RUNNER_FAMILY
    approval_policy: str | None = None
    status: RunStatus = RunStatus.QUEUED
    status_detail: str | None = None
    completed_at: str | None = None
    heartbeat_at: str | None = None
    heartbeat_interval_seconds: int = HEARTBEAT_INTERVAL_SECONDS
    heartbeat_stale_after_seconds: int = HEARTBEAT_STALE_AFTER_SECONDS
    summary: str | None = None
    metrics_recorded: bool = False
    resume_events: tuple[ResumeEvent, ...] = ()
    approvals: tuple[Mapping[str, Any], ...] = ()
    commands: tuple[CommandRecord, ...] = ()
    child_runs: tuple[ChildRun, ...] = ()
    run_summary_path: str | None = None
    guardrails_required: bool | None = None
    runner_version: str | None = None
    runner_pid: int | None = None
    runner_create_time: float | None = None
    host: str | None = None
    config_path: str | None = None
    resources: Resources | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> RunManifest:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def with_command(self, record: CommandRecord) -> RunManifest:
        """A copy with the command of the same index replaced by ``record``."""
        commands = tuple(record if c.index == record.index else c for c in self.commands)
        return dataclasses.replace(self, commands=commands)

    def with_child(self, child: ChildRun) -> RunManifest:
        """A copy listing ``child`` in ``child_runs`` (replacing an entry of the same run)."""
        others = tuple(c for c in self.child_runs if c.run_id != child.run_id)
        return dataclasses.replace(self, child_runs=(*others, child))

    def command(self, index: int) -> CommandRecord:
        """The command record with this 1-based index."""
        for record in self.commands:
            if record.index == index:
                return record
        raise KeyError(index)

    def to_dict(self, command_dicts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """As persisted: every field the TypeScript schema requires, then ours.

        ``command_dicts`` lets a writer pass cached ``commands[]`` entries.
        """
        data: dict[str, Any] = {
            "version": self.version,
            "task_id": self.task_id,
            "task_slug": self.task_slug,
            "run_id": self.run_id,
            "parent_run_id": self.parent_run_id,
            "pipeline_id": self.pipeline_id,
            "pipeline_title": self.pipeline_title,
            "runner": self.runner,
            "approval_policy": self.approval_policy,
            "status": str(self.status),
            "status_detail": self.status_detail,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "updated_at": self.updated_at,
            "heartbeat_at": self.heartbeat_at,
            "heartbeat_interval_seconds": self.heartbeat_interval_seconds,
            "heartbeat_stale_after_seconds": self.heartbeat_stale_after_seconds,
            "artifact_root": self.artifact_root,
            "compat_path": self.compat_path,
            "log_path": self.log_path,
            "summary": self.summary,
            "metrics_recorded": self.metrics_recorded,
            "resume_token": self.resume_token,
            "resume_events": [event.to_dict() for event in self.resume_events],
            "approvals": [dict(approval) for approval in self.approvals],
            "commands": command_dicts
            if command_dicts is not None
            else [record.to_dict() for record in self.commands],
            "child_runs": [child.to_dict() for child in self.child_runs],
            "run_summary_path": self.run_summary_path,
            # Required by the TypeScript schema; constant for a command runner.
            "plan_target_id": None,
            "runtime_mode_requested": "cli",
            "runtime_mode": "cli",
            "runtime_provider": "CliRuntimeProvider",
            "runtime_fallback": None,
            "instructions_hash": None,
            "instructions_sources": [],
            "guardrails_required": self.guardrails_required,
            # Ours.
            "runner_version": self.runner_version,
            "runner_pid": self.runner_pid,
            "runner_create_time": self.runner_create_time,
            "host": self.host,
            "config_path": self.config_path,
            "resources": self.resources.to_dict() if self.resources else None,
        }
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunManifest:
        """Tolerant reader for ours and older manifests: missing fields become unknown."""
        run_id = _str_or(data.get("run_id"), "unknown")
        started = _str_or(data.get("started_at"), "")
        commands_raw = data.get("commands")
        commands = tuple(
            CommandRecord.from_dict(item, position)
            for position, item in enumerate(
                commands_raw if isinstance(commands_raw, list) else [], start=1
            )
            if isinstance(item, Mapping)
        )
        return cls(
            version=_opt_int(data.get("version")) or MANIFEST_VERSION,
            task_id=_str_or(data.get("task_id"), "unknown"),
            task_slug=_opt_str(data.get("task_slug")),
            run_id=run_id,
            parent_run_id=_opt_str(data.get("parent_run_id")),
            pipeline_id=_str_or(data.get("pipeline_id"), "unknown"),
            pipeline_title=_str_or(data.get("pipeline_title"), "unknown"),
            runner=_str_or(data.get("runner"), "unknown"),
            approval_policy=_opt_str(data.get("approval_policy")),
            status=_enum_or(RunStatus, data.get("status"), RunStatus.QUEUED),
            status_detail=_opt_str(data.get("status_detail")),
            started_at=started,
            completed_at=_opt_str(data.get("completed_at")),
            updated_at=_str_or(data.get("updated_at"), started),
            heartbeat_at=_opt_str(data.get("heartbeat_at")),
            heartbeat_interval_seconds=_opt_int(data.get("heartbeat_interval_seconds"))
            or HEARTBEAT_INTERVAL_SECONDS,
            heartbeat_stale_after_seconds=_opt_int(data.get("heartbeat_stale_after_seconds"))
            or HEARTBEAT_STALE_AFTER_SECONDS,
            artifact_root=_str_or(data.get("artifact_root"), ""),
            compat_path=_str_or(data.get("compat_path"), ""),
            log_path=_str_or(data.get("log_path"), ""),
            summary=_opt_str(data.get("summary")),
            metrics_recorded=bool(data.get("metrics_recorded", False)),
            resume_token=_str_or(data.get("resume_token"), ""),
            resume_events=tuple(
                ResumeEvent(
                    timestamp=_str_or(e.get("timestamp"), ""),
                    actor=_str_or(e.get("actor"), "unknown"),
                    reason=_str_or(e.get("reason"), "unknown"),
                    outcome=_str_or(e.get("outcome"), "blocked"),
                    detail=_opt_str(e.get("detail")),
                )
                for e in _list_of_maps(data.get("resume_events"))
            ),
            approvals=tuple(_list_of_maps(data.get("approvals"))),
            commands=commands,
            child_runs=tuple(
                ChildRun(
                    run_id=_str_or(c.get("run_id"), "unknown"),
                    pipeline_id=_str_or(c.get("pipeline_id"), "unknown"),
                    status=_enum_or(RunStatus, c.get("status"), RunStatus.QUEUED),
                    manifest=_str_or(c.get("manifest"), ""),
                )
                for c in _list_of_maps(data.get("child_runs"))
            ),
            run_summary_path=_opt_str(data.get("run_summary_path")),
            guardrails_required=_opt_bool(data.get("guardrails_required")),
            runner_version=_opt_str(data.get("runner_version")),
            runner_pid=_opt_int(data.get("runner_pid")),
            runner_create_time=_opt_float(data.get("runner_create_time")),
            host=_opt_str(data.get("host")),
            config_path=_opt_str(data.get("config_path")),
            resources=Resources.from_dict(data.get("resources")),
            extra={k: v for k, v in data.items() if k not in _MANIFEST_KEYS},
        )


# ---------------------------------------------------------------------------
# Tolerant field readers
# ---------------------------------------------------------------------------


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _str_or(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _list_of_maps(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _enum_or(kind: type[_E], value: Any, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default
