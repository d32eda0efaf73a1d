"""The MCP server: the same answers as the HTTP API, as tools for agents.

Built on the official ``mcp`` SDK's ``MCPServer``. Every tool but
``collect_team_artifacts`` is annotated read-only; results are structured with the
same models the HTTP endpoints return.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations

from codex_orchestrator import __version__
from codex_orchestrator.errors import OrchestratorError
from codex_orchestrator.server.models import RunDetail, RunSummary
from codex_orchestrator.server.service import RunsService

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
COLLECT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
T = TypeVar("T")


def answer(call: Callable[[], T]) -> T:
    """Run one tool's work; our one-line errors become tool errors the agent reads."""
    try:
        return call()
    except OrchestratorError as exc:
        raise ToolError(exc.message) from None


def build_mcp_server(root: Path) -> MCPServer[Any]:
    """A new MCP server over the ``.runs`` tree of ``root``."""
    server: MCPServer[Any] = MCPServer(
        "codex-orchestrator",
        version=__version__,
        instructions="Runs of command pipelines and the artifacts they kept, read from "
        "the repository's .runs tree. Everything is read-only except collect_team_artifacts.",
        log_level="WARNING",
    )
    service = RunsService.for_root(root)

    @server.tool(annotations=READ_ONLY)
    def list_runs(task: str | None = None) -> list[RunSummary]:
        """Every run (of one task, when given), newest first: status, pipeline, times."""
        return answer(lambda: service.runs(task))

    @server.tool(annotations=READ_ONLY)
    def run_status(run_id: str) -> RunDetail:
        """One run's status, stages and runner activity (lost runners are detected)."""
        return answer(lambda: service.status(run_id))

    return server


def mount_mcp(app: FastAPI, server: MCPServer[Any], *, allowed_hosts: list[str] | None) -> None:
    """Serve ``server`` at ``/mcp`` (streamable HTTP) inside ``app``.

    The app's lifespan runs the session manager. Host and Origin checks follow the
    app's: on loopback, only loopback names; with a token, the token guards instead.
    """
    if allowed_hosts is not None:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[*allowed_hosts, *(f"{host}:*" for host in allowed_hosts)],
            allowed_origins=[f"http://{host}:*" for host in allowed_hosts],
        )
    else:
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    inner = server.streamable_http_app(streamable_http_path="/mcp", transport_security=security)
    app.router.routes.extend(inner.routes)
