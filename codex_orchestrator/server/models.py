"""The typed documents the HTTP API returns (and the MCP tools, as structured results)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What every refused request gets: one line naming what was wrong."""

    detail: str


class RunSummary(BaseModel):
    """One row of ``GET /runs``: the same fields as ``runs --format json``."""

    run_id: str
    task_id: str
    manifest: str = Field(description="The manifest's path, relative to the repository root.")
    source: str = Field(description="cli (canonical), mcp (older layout) or local-mcp (legacy).")
    status: str = Field(
        description="queued|in_progress|succeeded|failed|cancelled, unreadable, or lost "
        "(in progress on paper, its runner dead)."
    )
    recorded_status: str | None = Field(
        default=None, description="The status the manifest records (lost runs: in_progress)."
    )
    lost: bool = Field(default=False, description="Unfinished, and its runner is dead.")
    pipeline_id: str | None
    parent_run_id: str | None = None
    started_at: str | None
    completed_at: str | None
    duration_seconds: float | None
    error: str | None = Field(default=None, description="Why the manifest could not be read.")


class Resources(BaseModel):
    """CPU seconds and peak resident memory of a stage or a run."""

    cpu_seconds: float
    peak_rss_bytes: int | None = None  # null when not measured


class Stage(BaseModel):
    """One entry of the manifest's ``commands[]``."""

    index: int
    id: str
    title: str
    command: str | None
    kind: str = Field(description="command|subpipeline")
    status: str = Field(description="pending|running|succeeded|failed|skipped")
    started_at: str | None
    completed_at: str | None
    exit_code: int | None
    signal: str | None
    duration_ms: int | None
    summary: str | None
    sub_run_id: str | None
    resources: Resources | None
    needs: list[str] = Field(default_factory=list)
    blocked_by: list[str] = Field(default_factory=list)


class ChildRun(BaseModel):
    """A subpipeline's run, as the parent manifest lists it."""

    run_id: str
    pipeline_id: str
    status: str
    manifest: str


class Activity(BaseModel):
    """Whether the run's runner is alive: the same judgement as ``status``."""

    heartbeat_at: str | None
    heartbeat_age_seconds: float | None
    stale: bool
    runner_pid: int | None
    runner_alive: bool
    lost: bool = Field(description="In progress on paper, but its runner is gone.")
    leftover_processes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What a lost run's stages left running ({pid, name, command, stage}); "
        "resume ends it first.",
    )
    resume_command: str | None


class RunDetail(BaseModel):
    """``GET /runs/{run_id}``: the run's manifest (without its resume token) and activity."""

    run_id: str
    task_id: str
    pipeline_id: str
    pipeline_title: str
    parent_run_id: str | None
    status: str = Field(description="queued|in_progress|succeeded|failed|cancelled")
    status_detail: str | None
    started_at: str
    completed_at: str | None
    updated_at: str
    summary: str | None
    manifest_path: str
    runner_version: str | None
    host: str | None
    resources: Resources | None
    commands: list[Stage]
    child_runs: list[ChildRun]
    activity: Activity
    report_url: str | None = Field(
        default=None,
        description="Where `serve` renders the run's HTML report (a path on the server: "
        "GET /runs/{run_id}/report.html).",
    )


class OutputLine(BaseModel):
    """One line of a stage's output."""

    stream: str = Field(description="stdout|stderr")
    seq: int | None
    data: str
    partial: bool = False


class OutputTail(BaseModel):
    """``GET /runs/{run_id}/stages/{index}/output``: the last lines a stage printed."""

    run_id: str
    index: int
    stage_id: str
    status: str
    lines: list[OutputLine]


def stage_from(record: dict[str, Any]) -> Stage:
    """A manifest ``commands[]`` entry (as the tolerant reader wrote it) as a Stage."""
    return Stage(
        index=record["index"],
        id=record["id"],
        title=record["title"],
        command=record["command"],
        kind=record["kind"],
        status=record["status"],
        started_at=record["started_at"],
        completed_at=record["completed_at"],
        exit_code=record["exit_code"],
        signal=record["signal"],
        duration_ms=record["duration_ms"],
        summary=record["summary"],
        sub_run_id=record["sub_run_id"],
        resources=record["resources"],
        needs=_names(record.get("needs")),
        blocked_by=_names(record.get("blocked_by")),
    )


def _names(value: Any) -> list[str]:
    """A list of strings from a manifest field that other layers add (ignored when odd)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]
