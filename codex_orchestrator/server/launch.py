"""Starting the HTTP server and the stdio MCP server (imports the extra lazily)."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from codex_orchestrator.errors import ExitCode, InvalidInput

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
EXTRA_HINT = "pip install 'codex-orchestrator[server]'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeRequest:
    """``serve``: where to listen and who may ask."""

    root: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class McpRequest:
    """``mcp``: the repository whose runs the tools read."""

    root: Path


def require_extra(command: str) -> None:
    """Raise InvalidInput (exit 2) naming the pip command when the extra is missing."""
    try:
        import fastapi  # noqa: F401
        import mcp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        missing = exc.name or "a server dependency"
        raise InvalidInput(
            f"{command} needs the server extra ({missing} is not installed): {EXTRA_HINT}"
        ) from None


def serve(request: ServeRequest) -> ExitCode:
    """Serve the API, the web page and MCP until interrupted."""
    require_extra("serve")
    from codex_orchestrator.server.security import check_bind, is_loopback, resolve_token

    token = resolve_token(request.token)
    check_bind(request.host, token)
    listener = _listen(request.host, request.port)
    import uvicorn

    from codex_orchestrator.server.app import LOOPBACK_HOSTS, AppSettings, create_app

    local_only = is_loopback(request.host) and token is None
    app = create_app(
        AppSettings(
            root=request.root,
            token=token,
            allowed_hosts=LOOPBACK_HOSTS if local_only else None,
        )
    )
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"serving {request.root} on http://{shown}:{port}/ (Ctrl-C stops)\n")
    sys.stderr.flush()
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[listener])
    return ExitCode.OK


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or InvalidInput naming why not (port taken, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(256)
    except OSError as exc:
        listener.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listener


def run_mcp(request: McpRequest) -> ExitCode:
    """Serve the MCP tools on stdin/stdout until the client closes them."""
    require_extra("mcp")
    from codex_orchestrator.server.mcp_tools import build_mcp_server

    build_mcp_server(request.root).run("stdio")
    return ExitCode.OK
