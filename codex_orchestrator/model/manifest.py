"""The state of one run as persisted: ``manifest.json``.

Field names follow the TypeScript tool's published schema so that tools reading its
manifests read ours. Unknown keys of a read manifest are kept in ``extra`` and written
back unchanged.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codex_orchestrator.model.fields import (
    enum_or,
    list_of_maps,
    opt_bool,
    opt_float,
    opt_int,
    opt_str,
    str_or,
)
from codex_orchestrator.model.records import (
    ChildRun,
    CommandRecord,
    Resources,
    ResumeEvent,
    RunStatus,
)

MANIFEST_VERSION = 1
HEARTBEAT_INTERVAL_SECONDS = 10
HEARTBEAT_STALE_AFTER_SECONDS = 30
RUNNER_FAMILY = "codex-cli"
# Required by the TypeScript schema and constant for a command runner. A manifest
# that already has them (the TypeScript tool's) keeps its own values: they stay in
# ``extra`` and are written back as read.
_TS_CONSTANTS: Mapping[str, Any] = {
    "runtime_mode_requested": "cli",
    "runtime_mode": "cli",
    "runtime_provider": "CliRuntimeProvider",
    "runtime_fallback": None,
    "instructions_hash": None,
    "instructions_sources": (),
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
    "issue_provider",
    "issue_id",
    "issue_identifier",
    "issue_updated_at",
    "guardrails_required",
    "runner_version",
    "runner_pid",
    "runner_create_time",
    "host",
    "config_path",
    "resources",
    "journal_offset",
)


def _default(key: str, value: Any) -> bool:
    """Whether ``key`` holds the value we would write anyway (so ``extra`` needn't keep it)."""
    if key not in _TS_CONSTANTS:
        return False
    default = _TS_CONSTANTS[key]
    return bool(value == (list(default) if isinstance(default, tuple) else default))


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
    plan_target_id: str | None = None
    issue_provider: str | None = None
    issue_id: str | None = None
    issue_identifier: str | None = None
    issue_updated_at: str | None = None
    guardrails_required: bool | None = None
    runner_version: str | None = None
    runner_pid: int | None = None
    runner_create_time: float | None = None
    host: str | None = None
    config_path: str | None = None
    resources: Resources | None = None
    # How much of runner.ndjson (bytes) this state reflects; readers merge the rest.
    journal_offset: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> RunManifest:
        """A copy with ``changes`` applied.

        The manifest changes at every stage boundary and has some forty fields, so the
        copy is made field by field from the slots instead of through ``__init__``
        (``dataclasses.replace``): about a fifth of the time. Unknown names raise
        TypeError, as ``dataclasses.replace`` does.
        """
        unknown = changes.keys() - _FIELD_SET
        if unknown:
            raise TypeError(f"RunManifest has no field {min(unknown)!r}")
        copy = object.__new__(RunManifest)
        for name, value in zip(_FIELD_NAMES, _ALL_VALUES(self), strict=True):
            _SET(copy, name, changes.get(name, value))
        return copy

    def with_command(self, record: CommandRecord, **changes: Any) -> RunManifest:
        """A copy with the command of the same index replaced by ``record`` (and
        ``changes`` applied)."""
        position = record.index - 1
        commands = self.commands
        if 0 <= position < len(commands) and commands[position].index == record.index:
            # The usual case (records in index order): one C-level copy, no Python loop
            # over every record at every stage boundary.
            updated = list(commands)
            updated[position] = record
            return self.replace(commands=tuple(updated), **changes)
        commands = tuple(record if c.index == record.index else c for c in commands)
        return self.replace(commands=commands, **changes)

    def with_child(self, child: ChildRun) -> RunManifest:
        """A copy listing ``child`` in ``child_runs`` (replacing an entry of the same run)."""
        others = tuple(c for c in self.child_runs if c.run_id != child.run_id)
        return dataclasses.replace(self, child_runs=(*others, child))

    def command(self, index: int) -> CommandRecord:
        """The command record with this 1-based index."""
        commands = self.commands
        if 0 < index <= len(commands) and commands[index - 1].index == index:
            return commands[index - 1]  # the usual case: records in index order
        for record in commands:
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
            "plan_target_id": self.plan_target_id,
            "issue_provider": self.issue_provider,
            "issue_id": self.issue_id,
            "issue_identifier": self.issue_identifier,
            "issue_updated_at": self.issue_updated_at,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in _TS_CONSTANTS.items()},
            "guardrails_required": self.guardrails_required,
            # Ours.
            "runner_version": self.runner_version,
            "runner_pid": self.runner_pid,
            "runner_create_time": self.runner_create_time,
            "host": self.host,
            "config_path": self.config_path,
            "resources": self.resources.to_dict() if self.resources else None,
            "journal_offset": self.journal_offset,
        }
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunManifest:
        """Tolerant reader for ours and older manifests: missing fields become unknown."""
        run_id = str_or(data.get("run_id"), "unknown")
        started = str_or(data.get("started_at"), "")
        commands_raw = data.get("commands")
        commands = tuple(
            CommandRecord.from_dict(item, position)
            for position, item in enumerate(
                commands_raw if isinstance(commands_raw, list) else [], start=1
            )
            if isinstance(item, Mapping)
        )
        return cls(
            version=opt_int(data.get("version")) or MANIFEST_VERSION,
            task_id=str_or(data.get("task_id"), "unknown"),
            task_slug=opt_str(data.get("task_slug")),
            run_id=run_id,
            parent_run_id=opt_str(data.get("parent_run_id")),
            pipeline_id=str_or(data.get("pipeline_id"), "unknown"),
            pipeline_title=str_or(data.get("pipeline_title"), "unknown"),
            runner=str_or(data.get("runner"), "unknown"),
            approval_policy=opt_str(data.get("approval_policy")),
            status=enum_or(RunStatus, data.get("status"), RunStatus.QUEUED),
            status_detail=opt_str(data.get("status_detail")),
            started_at=started,
            completed_at=opt_str(data.get("completed_at")),
            updated_at=str_or(data.get("updated_at"), started),
            heartbeat_at=opt_str(data.get("heartbeat_at")),
            heartbeat_interval_seconds=opt_int(data.get("heartbeat_interval_seconds"))
            or HEARTBEAT_INTERVAL_SECONDS,
            heartbeat_stale_after_seconds=opt_int(data.get("heartbeat_stale_after_seconds"))
            or HEARTBEAT_STALE_AFTER_SECONDS,
            artifact_root=str_or(data.get("artifact_root"), ""),
            compat_path=str_or(data.get("compat_path"), ""),
            log_path=str_or(data.get("log_path"), ""),
            summary=opt_str(data.get("summary")),
            metrics_recorded=bool(data.get("metrics_recorded", False)),
            resume_token=str_or(data.get("resume_token"), ""),
            resume_events=tuple(
                ResumeEvent(
                    timestamp=str_or(e.get("timestamp"), ""),
                    actor=str_or(e.get("actor"), "unknown"),
                    reason=str_or(e.get("reason"), "unknown"),
                    outcome=str_or(e.get("outcome"), "blocked"),
                    detail=opt_str(e.get("detail")),
                )
                for e in list_of_maps(data.get("resume_events"))
            ),
            approvals=tuple(list_of_maps(data.get("approvals"))),
            commands=commands,
            child_runs=tuple(
                ChildRun(
                    run_id=str_or(c.get("run_id"), "unknown"),
                    pipeline_id=str_or(c.get("pipeline_id"), "unknown"),
                    status=enum_or(RunStatus, c.get("status"), RunStatus.QUEUED),
                    manifest=str_or(c.get("manifest"), ""),
                )
                for c in list_of_maps(data.get("child_runs"))
            ),
            run_summary_path=opt_str(data.get("run_summary_path")),
            plan_target_id=opt_str(data.get("plan_target_id")),
            issue_provider=opt_str(data.get("issue_provider")),
            issue_id=opt_str(data.get("issue_id")),
            issue_identifier=opt_str(data.get("issue_identifier")),
            issue_updated_at=opt_str(data.get("issue_updated_at")),
            guardrails_required=opt_bool(data.get("guardrails_required")),
            runner_version=opt_str(data.get("runner_version")),
            runner_pid=opt_int(data.get("runner_pid")),
            runner_create_time=opt_float(data.get("runner_create_time")),
            host=opt_str(data.get("host")),
            config_path=opt_str(data.get("config_path")),
            resources=Resources.from_dict(data.get("resources")),
            journal_offset=opt_int(data.get("journal_offset")),
            extra={k: v for k, v in data.items() if k not in _MANIFEST_KEYS and not _default(k, v)},
        )


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(RunManifest))
_FIELD_SET = frozenset(_FIELD_NAMES)
_ALL_VALUES = operator.attrgetter(*_FIELD_NAMES)
_SET = object.__setattr__
