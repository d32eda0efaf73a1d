"""States and the records a manifest is made of: commands, resume events, child runs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codex_orchestrator.model.fields import enum_or, list_of_maps, opt_int, opt_str, str_or


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
    ARTIFACT_INVALID = "artifact-invalid"
    # The Dask worker running the stage left the cluster (died) before it ended.
    WORKER_LOST = "worker-lost"


class ReportFormat(enum.StrEnum):
    """The reports ``report --format`` renders and config ``reports`` writes after a run."""

    HTML = "html"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    TRACE = "trace"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """CPU seconds and peak resident memory of a process tree (None: not measured)."""

    cpu_seconds: float = 0.0
    peak_rss_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """As persisted."""
        return {"cpu_seconds": round(self.cpu_seconds, 3), "peak_rss_bytes": self.peak_rss_bytes}

    @classmethod
    def from_dict(cls, data: Any) -> Resources | None:
        """Tolerant reader: None when absent or malformed."""
        if not isinstance(data, Mapping):
            return None
        cpu = data.get("cpu_seconds", 0.0)
        rss = data.get("peak_rss_bytes")
        if not isinstance(cpu, int | float) or not (rss is None or isinstance(rss, int)):
            return None
        # Older manifests wrote 0 when nothing was measured: that is "not measured".
        return cls(cpu_seconds=float(cpu), peak_rss_bytes=rss or None)

    def combine(self, other: Resources | None) -> Resources:
        """Totals for a run: CPU adds up, peak memory is the largest."""
        if other is None:
            return self
        measured = [r for r in (self.peak_rss_bytes, other.peak_rss_bytes) if r is not None]
        return Resources(
            cpu_seconds=self.cpu_seconds + other.cpu_seconds,
            peak_rss_bytes=max(measured) if measured else None,
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
    "needs",
    "blocked_by",
    "process_group",
    "ended_processes",
    "worker",
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
    # Graph runs only (absent from linear pipelines' records): the stages this one
    # needs, and while it waits on failed needs or a gate, what blocks it.
    needs: tuple[str, ...] | None = None
    blocked_by: tuple[str, ...] | None = None
    # The session the stage's leader heads while it runs (pid + create time), and the
    # processes it left behind that the runner ended when it finished.
    process_group: Mapping[str, Any] | None = None
    ended_processes: tuple[Mapping[str, Any], ...] = ()
    # The Dask worker that ran the stage (absent for the local executor).
    worker: str | None = None
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
            "process_group": dict(self.process_group) if self.process_group else None,
            "ended_processes": [dict(p) for p in self.ended_processes],
            "worker": self.worker,
        }
        if self.needs is not None:
            data["needs"] = list(self.needs)
            data["blocked_by"] = list(self.blocked_by) if self.blocked_by is not None else None
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], position: int = 1) -> CommandRecord:
        """Tolerant reader: unknown values fall back to safe defaults, unknown keys kept."""
        index = data.get("index")
        return cls(
            index=index if isinstance(index, int) else position,
            id=str_or(data.get("id"), f"command-{position}"),
            title=str_or(data.get("title"), str_or(data.get("id"), f"command-{position}")),
            command=opt_str(data.get("command")),
            kind=enum_or(StageKind, data.get("kind"), StageKind.COMMAND),
            status=enum_or(CommandStatus, data.get("status"), CommandStatus.PENDING),
            started_at=opt_str(data.get("started_at")),
            completed_at=opt_str(data.get("completed_at")),
            exit_code=opt_int(data.get("exit_code")),
            summary=opt_str(data.get("summary")),
            log_path=opt_str(data.get("log_path")),
            error_file=opt_str(data.get("error_file")),
            sub_run_id=opt_str(data.get("sub_run_id")),
            signal=opt_str(data.get("signal")),
            duration_ms=opt_int(data.get("duration_ms")),
            resources=Resources.from_dict(data.get("resources")),
            needs=_names(data.get("needs")),
            blocked_by=_names(data.get("blocked_by")),
            process_group=group
            if isinstance(group := data.get("process_group"), Mapping)
            else None,
            ended_processes=tuple(list_of_maps(data.get("ended_processes"))),
            worker=opt_str(data.get("worker")),
            extra={k: v for k, v in data.items() if k not in _COMMAND_KEYS},
        )


def _map_or_none(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


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


def _names(raw: Any) -> tuple[str, ...] | None:
    """A list of strings as a tuple; None when absent or not such a list."""
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        return None
    return tuple(raw)
