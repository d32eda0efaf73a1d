"""The artifact endpoints: the seed's collect, list and metadata, plus files and search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from codex_orchestrator.server.artifact_models import (
    ArtifactFile,
    ArtifactMetadata,
    ArtifactRun,
    CollectResponse,
    SearchHit,
)
from codex_orchestrator.server.artifact_service import ArtifactsService
from codex_orchestrator.server.models import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad id, path or query."},
    404: {"model": ErrorBody, "description": "No such run, collected artifacts or file."},
    422: {"model": ErrorBody, "description": "A manifest or metadata.json is unreadable."},
}
# Kept files are untrusted content served from the API's origin: never rendered as
# HTML, never sniffed into something runnable.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


def add_artifact_routes(app: FastAPI, service: ArtifactsService) -> None:
    """Register the artifact endpoints on ``app``."""

    @app.post(
        "/artifacts/collect/{run_id}",
        response_model=CollectResponse,
        responses={
            **ERRORS,
            409: {"model": CollectResponse, "description": "The run has no stage instances."},
        },
        tags=["artifacts"],
    )
    def collect(run_id: str) -> JSONResponse:
        """Rebuild a run's metadata.json, summary.md and index.json (the only write)."""
        result = service.collect(run_id)
        status = 409 if result.status == "error" else 200
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    @app.get("/artifacts/list", responses=ERRORS, tags=["artifacts"])
    def list_artifacts(
        task: Annotated[str | None, Query(description="Only this task's runs.")] = None,
    ) -> list[ArtifactRun]:
        """Runs with collected artifacts, newest first (as ``artifacts list``)."""
        return service.runs_with_artifacts(task)

    @app.get("/artifacts/{run_id}/metadata", responses=ERRORS, tags=["artifacts"])
    def metadata(run_id: str) -> ArtifactMetadata:
        """A run's collected metadata: instances, statuses, totals (as ``artifacts show``)."""
        return service.metadata(run_id)

    @app.get("/artifacts/{run_id}/files", responses=ERRORS, tags=["artifacts"])
    def files(
        run_id: str,
        instance: Annotated[str | None, Query(description="Only this instance (NN-slug).")] = None,
    ) -> list[ArtifactFile]:
        """Kept files (archived), live workspace files and sealed files (as ``artifacts ls``)."""
        return service.files(run_id, instance)

    @app.get(
        "/artifacts/{run_id}/files/{path:path}",
        response_class=StreamingResponse,
        responses={
            **ERRORS,
            200: {
                "description": "The file's bytes (text/plain when UTF-8 text).",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            },
        },
        tags=["artifacts"],
    )
    def file(
        run_id: str,
        path: Annotated[str, Path(description="<instance>/<path> of a kept file.")],
    ) -> StreamingResponse:
        """A kept file's bytes (as ``artifacts get``); links out of the workspace refused."""
        chunks = service.stream(run_id, path)
        first = next(chunks)
        text = b"\0" not in first[:8192] and _utf8_prefix(first[:8192])

        def body() -> Any:
            yield first
            yield from chunks

        media = "text/plain; charset=utf-8" if text else "application/octet-stream"
        return StreamingResponse(body(), media_type=media, headers=FILE_HEADERS)

    @app.get("/search", responses=ERRORS, tags=["artifacts"])
    def search(
        q: Annotated[str, Query(min_length=1, description="Words (SQLite FTS5 syntax allowed).")],
        task: Annotated[str | None, Query(description="Only this task.")] = None,
        run_id: Annotated[str | None, Query(description="Only this run.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[SearchHit]:
        """Full-text search over kept text files and output logs (as ``artifacts search``)."""
        return service.search(q, task=task, run_id=run_id, limit=limit)


def _utf8_prefix(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 (a character cut at the end allowed)."""
    for cut in range(4):
        try:
            data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False
