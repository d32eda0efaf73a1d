"""Who may talk to the server: loopback by default, a bearer token otherwise."""

from __future__ import annotations

import hmac
import ipaddress
import os

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from codex_orchestrator.errors import InvalidInput

TOKEN_ENV = "CODEX_ORCHESTRATOR_SERVER_TOKEN"  # noqa: S105 - a variable name, not a secret
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(explicit: str | None) -> str | None:
    """``--token``, else ``$CODEX_ORCHESTRATOR_SERVER_TOKEN``; an empty token is refused."""
    token = explicit if explicit is not None else os.environ.get(TOKEN_ENV)
    if token is None:
        return None
    if not token.strip():
        raise InvalidInput("the server token is empty")
    return token


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token (InvalidInput: exit 2)."""
    if not is_loopback(host) and token is None:
        raise InvalidInput(
            f"--host {host} is not loopback: give --token T (or ${TOKEN_ENV}) so that "
            "only clients with the token can read runs"
        )


class BearerTokenMiddleware:
    """Every HTTP request without ``Authorization: Bearer <token>`` gets 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorised requests on; answer the rest with 401."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                given = value
                break
        # compare_digest takes the same time wherever the first difference is.
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"detail": "missing or wrong bearer token"})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
