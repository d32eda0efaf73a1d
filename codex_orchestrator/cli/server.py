"""``serve`` (HTTP API, web page, MCP at /mcp) and ``mcp`` (MCP on stdio).

Both need the ``[server]`` extra; nothing of it is imported until one of them runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import repo_root, run_core


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``mcp`` to the app."""
    app.command("serve")(serve)
    app.command("mcp")(mcp)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; not loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free).")
    ] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Require 'Authorization: Bearer TOKEN' on every request "
            "(default: $CODEX_ORCHESTRATOR_SERVER_TOKEN).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve runs and artifacts over HTTP, a web page at /, and MCP at /mcp."""
    from codex_orchestrator.server.launch import ServeRequest
    from codex_orchestrator.server.launch import serve as serve_core

    request = ServeRequest(root=repo_root(), host=host, port=port, token=token)
    run_core(lambda: serve_core(request))


def mcp() -> None:
    """Run an MCP server on stdin/stdout with the runs and artifacts tools."""
    from codex_orchestrator.server.launch import McpRequest, run_mcp

    request = McpRequest(root=repo_root())
    run_core(lambda: run_mcp(request))
