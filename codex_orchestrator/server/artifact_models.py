"""The typed documents of the artifact endpoints (and their MCP tools)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Totals(BaseModel):
    """A run's kept-artifact totals."""

    model_config = ConfigDict(extra="allow")

    instances: int = 0
    files: int = 0
    bytes: int = 0
    cpu_seconds: float | None = None
    peak_rss_bytes: int | None = None


class ArtifactMetadata(BaseModel):
    """``GET /artifacts/{run_id}/metadata``: the run's ``metadata.json`` and where it is."""

    model_config = ConfigDict(extra="allow")

    run_id: str
    task_id: str
    pipeline_id: str | None = None
    parent_run_id: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    status: str
    partial: bool = False
    instances: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Every stage instance, children included (each with parent_instance_id).",
    )
    totals: Totals = Field(default_factory=Totals)
    artifacts_path: str | None = None
    summary_path: str | None = None
    packed: bool = False
    pruned_at: str | None = None


class CollectResponse(BaseModel):
    """``POST /artifacts/collect/{run_id}``: the seed's collect answer."""

    status: str = Field(description="success|partial|error")
    team_session_id: str
    artifacts_path: str | None
    instances_count: int
    metadata: dict[str, Any] | None
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)


class ArtifactRun(BaseModel):
    """One row of ``GET /artifacts/list``: a run with collected artifacts."""

    run_id: str
    task_id: str
    pipeline_id: str | None
    status: str
    partial: bool
    instances: int
    files: int
    bytes: int
    packed: bool
    pruned_at: str | None
    created_at: str | None
    artifacts_path: str


class ArtifactFile(BaseModel):
    """One kept (``archived``), live or sealed file of a run."""

    instance: str
    path: str
    size: int
    sha256: str | None
    permissions: str = Field(description="Octal mode, e.g. 0644.")
    type: str = Field(description="file|link")
    target: str | None = None
    mode: str = Field(description="live|archived|sealed")


class ArtifactListing(BaseModel):
    """The ``list_artifacts`` tool: runs with artifacts, or one run's files."""

    runs: list[ArtifactRun] = Field(default_factory=list)
    files: list[ArtifactFile] = Field(default_factory=list)


class ArtifactContent(BaseModel):
    """The ``read_artifact`` tool: a kept file's bytes (text when UTF-8, else base64)."""

    run_id: str
    path: str
    size: int = Field(description="Bytes returned (before any truncation marker).")
    truncated: bool
    text: str | None
    base64: str | None


class SearchHit(BaseModel):
    """One line found by ``GET /search``."""

    run_id: str
    task_id: str
    instance: str
    path: str
    line: int
    snippet: str
