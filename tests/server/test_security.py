"""A real ``serve``: loopback by default, a bearer token beyond, no way out of ``.runs``."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from .helpers import Project, Server

TRAVERSALS = [
    "/runs/..",
    "/runs/../../etc/passwd",
    "/runs/%2e%2e",
    "/runs/%2E%2E/events",
    "/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/runs/.hidden",
    "/runs/%2Fetc%2Fpasswd",
    "/runs/a%00b",
    "/runs/%5C..%5C..",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2fapp.py",
    "//etc/passwd",
]


def raw_get(
    server: Server, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """GET ``path`` exactly as written (no client-side normalisation of dots)."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def test_traversal_never_leaves_the_runs_tree(
    project: Project, start_server: Callable[..., Server], finished_run: str
) -> None:
    """Dots, encoded dots, slashes, NULs: 400 or 404, and never a file's content."""
    server = start_server()
    files = f"/artifacts/{finished_run}/files"
    artifact_paths = [
        f"{files}/01-build/../../../../../../etc/passwd",
        f"{files}/01-build/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{files}/%2Fetc%2Fpasswd",
        f"{files}//etc/passwd",
        f"{files}/01-build/out/..%2f..%2f..%2fmanifest.json",
        f"{files}/..%2F..%2Fmanifest.json",
        "/artifacts/%2e%2e/metadata",
        "/artifacts/..%2F..%2Fetc/files/passwd",
    ]
    for path in [*TRAVERSALS, *artifact_paths]:
        status, body, _ = raw_get(server, path)
        assert status in (400, 404), (path, status, body[:200])
        assert b"root:" not in body
        assert b"def " not in body
        assert b'"run_id"' not in body, path


def test_binds_loopback_by_default_and_rejects_foreign_host_headers(
    start_server: Callable[..., Server],
) -> None:
    """127.0.0.1 only; a Host header naming another site (DNS rebinding) is refused."""
    server = start_server()
    assert urlsplit(server.url).hostname == "127.0.0.1"
    assert raw_get(server, "/runs")[0] == 200
    assert raw_get(server, "/runs", {"Host": "attacker.example"})[0] == 400


def test_a_token_guards_every_request(
    start_server: Callable[..., Server], finished_run: str
) -> None:
    """Without the bearer token: 401 (page, API, report, schema, MCP); with it: 200."""
    server = start_server("--token", "s3cret-token")
    good = {"Authorization": "Bearer s3cret-token"}
    run, report = f"/runs/{finished_run}", f"/runs/{finished_run}/report.html"
    # Answered once with the token: a polled run's cached document is guarded all the same.
    assert raw_get(server, run, good)[0] == 200
    assert raw_get(server, report, good)[0] == 200
    for path in ("/", "/runs", run, report, "/openapi.json", "/static/app.js", "/mcp"):
        status, body, headers = raw_get(server, path)
        assert status == 401, path
        assert headers.get("www-authenticate") == "Bearer"
        assert finished_run.encode() not in body
    assert raw_get(server, "/runs", {"Authorization": "Bearer wrong"})[0] == 401
    assert raw_get(server, "/runs", {"Authorization": "s3cret-token"})[0] == 401
    assert raw_get(server, "/runs", {"Authorization": "Bearer s3cret-token"})[0] == 200


def test_the_token_can_come_from_the_environment(start_server: Callable[..., Server]) -> None:
    """``CODEX_ORCHESTRATOR_SERVER_TOKEN`` works as ``--token``."""
    server = start_server(env={"CODEX_ORCHESTRATOR_SERVER_TOKEN": "from-env"})
    assert raw_get(server, "/runs")[0] == 401
    assert raw_get(server, "/runs", {"Authorization": "Bearer from-env"})[0] == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])  # noqa: S104 - refused
def test_a_public_host_without_a_token_is_refused(project: Project, host: str) -> None:
    """Exit 2 with one line saying what to give, before listening anywhere."""
    result = project.cli("serve", "--host", host, "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("codex-orchestrator: error: --host ")
    assert "--token" in lines[0]


def test_an_empty_token_and_a_taken_port_are_refused(project: Project) -> None:
    """One line each, exit 2."""
    empty = project.cli("serve", "--token", " ")
    assert empty.returncode == 2
    assert empty.stderr.strip() == "codex-orchestrator: error: the server token is empty"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = project.cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"codex-orchestrator: error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1
