"""The MCP server, through the SDK's own client: in-process, over stdio, and at /mcp."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from codex_orchestrator.server.app import AppSettings, create_app
from codex_orchestrator.server.mcp_tools import build_mcp_server

from .helpers import Project, Server

RUN_TOOLS = {"list_runs", "run_status"}


async def exercise(client: Client, run_id: str) -> dict[str, Any]:
    """List the tools and call the run tools; what the agent would see."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    listed = await client.call_tool("list_runs", {})
    status = await client.call_tool("run_status", {"run_id": run_id})
    missing = await client.call_tool("run_status", {"run_id": "../../etc"})
    return {"tools": tools, "listed": listed, "status": status, "missing": missing}


def check(project: Project, seen: dict[str, Any], run_id: str) -> None:
    """The structured results equal the HTTP API's documents; errors are tool errors."""
    tools = seen["tools"]
    assert tools.keys() >= RUN_TOOLS
    for name in RUN_TOOLS:
        assert tools[name].annotations.read_only_hint is True, name
        assert tools[name].output_schema is not None, name
    app = create_app(AppSettings(root=project.root, mount_mcp=False))
    with TestClient(app) as http:
        assert seen["listed"].structured_content == {"result": http.get("/runs").json()}
        detail = http.get(f"/runs/{run_id}").json()
    status = seen["status"].structured_content
    assert status is not None
    # Heartbeat age moves between the two reads; everything else is the same document.
    status["activity"].pop("heartbeat_age_seconds")
    detail["activity"].pop("heartbeat_age_seconds")
    assert status == detail
    assert seen["status"].is_error is False
    assert seen["missing"].is_error is True
    assert "invalid run id" in seen["missing"].content[0].text


def test_tools_in_process(project: Project, finished_run: str) -> None:
    """The SDK client connected to the server object directly."""
    server = build_mcp_server(project.root)

    async def body() -> dict[str, Any]:
        async with Client(server) as client:
            return await exercise(client, finished_run)

    check(project, asyncio.run(body()), finished_run)


def test_tools_over_stdio(project: Project, finished_run: str) -> None:
    """``codex-orchestrator mcp`` as a subprocess speaking MCP on stdin/stdout."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codex_orchestrator", "mcp"],
        cwd=str(project.root),
        env={"PYTHONPATH": os.pathsep.join(sys.path)},
    )

    async def body() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=60) as client:
            return await exercise(client, finished_run)

    check(project, asyncio.run(body()), finished_run)


def test_tools_over_http_at_mcp(
    project: Project, finished_run: str, start_server: Callable[..., Server]
) -> None:
    """``serve`` mounts the same server at /mcp (streamable HTTP)."""
    server = start_server()

    async def body() -> dict[str, Any]:
        async with Client(f"{server.url}/mcp", read_timeout_seconds=60) as client:
            return await exercise(client, finished_run)

    check(project, asyncio.run(body()), finished_run)


def test_no_tool_reads_outside_the_tree(project: Project) -> None:
    """Every tool argument that names a run is validated like the HTTP path."""
    server = build_mcp_server(project.root)

    async def body() -> list[bool]:
        async with Client(server) as client:
            results = []
            for run_id in ("..", "/etc/passwd", "a\x00b", ".hidden"):
                result = await client.call_tool("run_status", {"run_id": run_id})
                results.append(result.is_error)
            return results

    assert asyncio.run(body()) == [True, True, True, True]
