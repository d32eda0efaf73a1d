"""The FastAPI application: the runs (and artifacts) over HTTP, the web page, MCP at /mcp."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from codex_orchestrator import __version__
from codex_orchestrator.errors import (
    InvalidInput,
    ManifestUnreadable,
    OrchestratorError,
    RunNotFound,
)
from codex_orchestrator.report.html_assets import content_security_policy
from codex_orchestrator.server.models import ErrorBody, OutputTail, RunDetail, RunSummary
from codex_orchestrator.server.polling import CachedStatusMiddleware
from codex_orchestrator.server.security import BearerTokenMiddleware
from codex_orchestrator.server.service import RunsService
from codex_orchestrator.server.sse import run_events, start_offset

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad id, path or parameter (one line)."},
    404: {"model": ErrorBody, "description": "No such run (or file)."},
    422: {"model": ErrorBody, "description": "The run's manifest is unreadable."},
}
# One server-sent event: a runner.ndjson event as JSON text, or the closing ``end``.
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["message", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "required": ["data"],
}
# The report is a page of this origin holding text from commands: its own policy (only
# its inline script, no network) also as a header, sandboxed to an opaque origin.
REPORT_HEADERS = {
    "Content-Security-Policy": f"sandbox allow-scripts; {content_security_policy()}",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    """How one server instance is set up."""

    root: Path
    token: str | None = None
    # Host headers accepted (None: any): on loopback without a token, only loopback names,
    # so that a web page elsewhere cannot reach the API through DNS rebinding.
    allowed_hosts: list[str] | None = None
    mount_mcp: bool = True


def web_dir() -> Path:
    """The static files of the web page, shipped inside the package."""
    return Path(str(resources.files("codex_orchestrator.server") / "web"))


def create_app(settings: AppSettings) -> FastAPI:
    """A new application over the ``.runs`` tree of ``settings.root``."""
    service = RunsService.for_root(settings.root)
    mcp_server = None
    if settings.mount_mcp:
        from codex_orchestrator.server.mcp_tools import build_mcp_server

        mcp_server = build_mcp_server(settings.root)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if mcp_server is None:
            yield
            return
        async with mcp_server.session_manager.run():
            yield

    app = FastAPI(
        title="codex-orchestrator",
        version=__version__,
        description="Runs and their artifacts, read from the repository's .runs tree.",
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    _add_error_handlers(app)
    _add_run_routes(app, service)
    from codex_orchestrator.server.artifact_routes import add_artifact_routes
    from codex_orchestrator.server.artifact_service import ArtifactsService

    add_artifact_routes(app, ArtifactsService.for_runs(service))
    _add_page(app)
    if mcp_server is not None:
        from codex_orchestrator.server.mcp_tools import mount_mcp

        mount_mcp(app, mcp_server, allowed_hosts=settings.allowed_hosts)
    # Innermost of the middlewares: the Host and token checks below wrap it.
    app.add_middleware(CachedStatusMiddleware, cache=service.status_cache)
    if settings.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    if settings.token is not None:
        app.add_middleware(BearerTokenMiddleware, token=settings.token)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def status_of(exc: OrchestratorError) -> int:
        if isinstance(exc, RunNotFound):
            return 404
        if isinstance(exc, ManifestUnreadable):
            return 422
        if isinstance(exc, InvalidInput):
            return 400
        return 400 if exc.exit_code == 2 else 500

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OrchestratorError)  # noqa: S101 - registered for it alone
        return JSONResponse({"detail": exc.message}, status_code=status_of(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it alone
        return JSONResponse({"detail": _one_line(exc)}, status_code=400)

    app.add_exception_handler(OrchestratorError, handle)
    app.add_exception_handler(RequestValidationError, invalid)


def _one_line(exc: RequestValidationError) -> str:
    """The first problem of a rejected request as one line: where, and what."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = " ".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"


def _add_run_routes(app: FastAPI, service: RunsService) -> None:
    @app.get("/runs", responses=ERRORS, tags=["runs"])
    def list_runs(
        task: Annotated[str | None, Query(description="Only this task's runs.")] = None,
    ) -> list[RunSummary]:
        """Every run, newest first (the same rows as ``runs --all-tasks --format json``)."""
        return service.runs(task)

    @app.get("/runs/{run_id}", response_model=RunDetail, responses=ERRORS, tags=["runs"])
    async def run_status(run_id: str) -> Response:
        """A run's state, stages and runner activity (as ``status --run ID``)."""
        # Clients poll this: the document is built (and validated) once per change of
        # the run's files, and served as bytes in between.
        return Response(service.status_json(run_id), media_type="application/json")

    @app.get(
        "/runs/{run_id}/stages/{index}/output",
        responses=ERRORS,
        tags=["runs"],
    )
    def stage_output(
        run_id: str,
        index: int,
        lines: Annotated[int, Query(ge=0, le=1000, description="How many lines.")] = 100,
    ) -> OutputTail:
        """The last lines a stage printed (stdout and stderr, in order)."""
        return service.output(run_id, index, lines)

    @app.get(
        "/runs/{run_id}/report.html",
        # Not HTMLResponse here: the errors stay documented as application/json.
        response_class=Response,
        responses={
            **ERRORS,
            200: {
                "description": "The run's self-contained HTML report (as ``report --format "
                "html``): stages, timeline, failures, artifacts, gates, child runs.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
        },
        tags=["runs"],
    )
    def run_report(run_id: str) -> HTMLResponse:
        """The run's HTML report, rendered from its files now (a live run's so far)."""
        return HTMLResponse(service.report_html(run_id), headers=REPORT_HEADERS)

    @app.get(
        "/runs/{run_id}/events",
        response_class=StreamingResponse,
        responses={
            **ERRORS,
            200: {
                "description": "Server-sent events: one `runner.ndjson` event per `data:` "
                "line (its `id` is a byte offset for `Last-Event-ID`), then one "
                "`event: end` with `{status, lost}`.",
                "content": {"text/event-stream": {"schema": SSE_EVENT}},
            },
        },
        tags=["runs"],
    )
    def run_event_stream(
        run_id: str,
        output: Annotated[
            bool, Query(description="Include output lines (command:stdout/stderr).")
        ] = True,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Replay a finished run's events; follow a live run's until it ends."""
        ref = service.locate(run_id)
        offset = start_offset(service.events_file(ref), last_event_id)
        return StreamingResponse(
            run_events(service, ref, offset, output=output),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


def _add_page(app: FastAPI) -> None:
    static = web_dir()

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(static / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=static, follow_symlink=False), name="static")
