"""Every path parameter of the API against the same hostile values, over a real server.

The parameters are the run id (also the team session id of collect), the stage index
and the artifact path. Each gets too-long, ``..``, encoded ``%2e%2e``, absolute and
link-out-of-the-tree values; every answer is 400 or 404, one line, and never holds a
byte of a file outside ``.runs``.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import orjson
import pytest
from helpers import command, pipeline, write_config
from mcp import Client

from codex_orchestrator.server.mcp_tools import build_mcp_server

from .helpers import stop_server

MARKER = "MARKER-OUTSIDE-THE-TREE"
KEPT = "01-build/out/report.txt"
# Where a run id (or session id) sits in each endpoint; ``{run}`` is the value under test.
RUN_ROUTES = [
    ("GET", "/runs/{run}"),
    ("GET", "/runs/{run}/events"),
    ("GET", "/runs/{run}/stages/1/output"),
    ("GET", "/runs/{run}/report.html"),
    ("POST", "/artifacts/collect/{run}"),
    ("GET", "/artifacts/{run}/metadata"),
    ("GET", "/artifacts/{run}/files"),
    ("GET", f"/artifacts/{{run}}/files/{KEPT}"),
]
TOO_LONG = {
    "ascii": "a" * 256,
    "multibyte": "\u00e9" * 128,  # 128 characters, 256 bytes
}
RUN_VALUES = {
    "dots": "..",
    "encoded-dots": "%2e%2e",
    "encoded-dots-upper": "%2E%2E",
    "encoded-climb": "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "absolute": "%2Fetc%2Fpasswd",
    "backslash-climb": "%5C..%5C..%5Cetc",
    "nul": "a%00b",
    "hidden": ".hidden",
}
STAGE_VALUES = {
    "too-long": "1" * 256,
    "dots": "..",
    "encoded-dots": "%2e%2e",
    "encoded-climb": "%2e%2e%2f%2e%2e%2fmanifest.json",
    "absolute": "%2Fetc%2Fpasswd",
    "negative": "-1",
    "zero": "0",
    "not-a-number": "one",
}
ARTIFACT_VALUES = {
    "too-long-segment": f"01-build/{'a' * 256}",
    "too-long-path": "01-build/" + "/".join(["d" * 200] * 30),
    "dots": "01-build/../../../../../../etc/passwd",
    "dots-to-manifest": "01-build/../../../manifest.json",
    "encoded-dots": "01-build/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "encoded-slash": "01-build/out/..%2f..%2f..%2fmanifest.json",
    "absolute": "%2Fetc%2Fpasswd",
    "double-slash": "/etc/passwd",
    "instance-only": "01-build",
    "link-to-file": "01-build/escape-file",
    "link-to-dir": "01-build/escape-dir/secret.txt",
    "linked-instance": "03-linked/secret.txt",
}


@dataclass(frozen=True)
class Tree:
    """A served project: a normal run, runs tampered with links out, and what lies outside."""

    url: str
    root: Path
    outside: Path
    run: str
    linked_run: str
    linked_log_run: str


def _cli(root: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _start(root: Path) -> str:
    return str(orjson.loads(_cli(root, "start", "ok", "--format", "json"))["run_id"])


def _plant_secrets(outside: Path) -> None:
    """Files outside the tree that a link inside it could name."""
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{MARKER}\n")
    event = {"type": "command:stdout", "timestamp": "2025-01-01T00:00:00.000Z"}
    line = orjson.dumps({**event, "index": 2, "data": MARKER, "seq": 1})
    (outside / "log.ndjson").write_bytes(line + b"\n")


def _build(root: Path, outside: Path) -> Tree:
    write_config(
        root,
        pipeline(
            "ok",
            command(
                "build",
                'mkdir -p "$CODEX_ORCHESTRATOR_WORKSPACE/out"; '
                'echo "hello kept world" > "$CODEX_ORCHESTRATOR_WORKSPACE/out/report.txt"',
            ),
            command("test", "echo tested"),
        ),
    )
    _plant_secrets(outside)
    cli_dir = root / ".runs" / "0101" / "cli"
    run, linked_run, linked_log_run = _start(root), _start(root), _start(root)
    # A kept file, a kept directory and a whole instance linked out of the tree.
    instances = cli_dir / run / "artifacts" / "instances"
    workspace = instances / "01-build" / "workspace"
    os.symlink(outside / "secret.txt", workspace / "escape-file")
    os.symlink(outside, workspace / "escape-dir")
    (outside / "instance" / "workspace").mkdir(parents=True)
    (outside / "instance" / "workspace" / "secret.txt").write_text(f"{MARKER}\n")
    os.symlink(outside / "instance", instances / "03-linked")
    # A whole run directory linked in from outside, its files full of the secret.
    moved = outside / "run"
    os.rename(cli_dir / linked_run, moved)
    manifest = orjson.loads((moved / "manifest.json").read_bytes())
    manifest["pipeline_title"] = MARKER
    (moved / "manifest.json").write_bytes(orjson.dumps(manifest))
    with (moved / "runner.ndjson").open("ab") as journal:
        journal.write((outside / "log.ndjson").read_bytes())
    os.symlink(moved, cli_dir / linked_run)
    # A stage's output log and the collected metadata replaced by links to files outside.
    log = next((cli_dir / linked_log_run / "commands").glob("02-*.ndjson"))
    log.unlink()
    os.symlink(outside / "log.ndjson", log)
    metadata_path = cli_dir / linked_log_run / "artifacts" / "metadata.json"
    metadata = orjson.loads(metadata_path.read_bytes())
    (outside / "metadata.json").write_bytes(orjson.dumps({**metadata, "pipeline_id": MARKER}))
    metadata_path.unlink()
    os.symlink(outside / "metadata.json", metadata_path)
    return Tree(
        url="",
        root=root,
        outside=outside,
        run=run,
        linked_run=linked_run,
        linked_log_run=linked_log_run,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tree]:
    """One project and one ``serve`` for every case of this module."""
    base = tmp_path_factory.mktemp("params")
    root = base / "project"
    root.mkdir()
    built = _build(root, base / "outside")
    process = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "serve", "--port", "0"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    match = re.search(r"on (http://\S+)/ ", line)
    assert match, line
    try:
        yield Tree(**{**built.__dict__, "url": match.group(1)})
    finally:
        stop_server(process)
        process.stderr.close()


def request(tree: Tree, method: str, path: str) -> tuple[int, bytes]:
    """``path`` sent exactly as written: no client-side normalisation of dots."""
    parts = urlsplit(tree.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def assert_refused(status: int, body: bytes, where: str) -> None:
    """400 or 404 with a one-line detail, and nothing from outside the tree."""
    assert status in (400, 404), (where, status, body[:300])
    assert MARKER.encode() not in body, where
    assert b"root:" not in body, where
    detail = orjson.loads(body)["detail"]
    assert isinstance(detail, str), where
    assert "\n" not in detail, where


@pytest.mark.parametrize(("method", "route"), RUN_ROUTES, ids=[r for _, r in RUN_ROUTES])
@pytest.mark.parametrize("value", RUN_VALUES.values(), ids=RUN_VALUES.keys())
def test_a_hostile_run_or_session_id_is_refused(
    tree: Tree, method: str, route: str, value: str
) -> None:
    """Run ids (and collect's team session id): 400/404, never a file outside."""
    path = route.format(run=value)
    status, body = request(tree, method, path)
    assert_refused(status, body, path)


@pytest.mark.parametrize(("method", "route"), RUN_ROUTES, ids=[r for _, r in RUN_ROUTES])
def test_a_run_linked_in_from_outside_is_not_found(tree: Tree, method: str, route: str) -> None:
    """A run directory that is a link out of ``.runs``: 404, and collect writes nothing."""
    before = sorted(p.name for p in (tree.outside / "run").rglob("*"))
    status, body = request(tree, method, route.format(run=tree.linked_run))
    assert status == 404, (route, status, body[:300])
    assert_refused(status, body, route)
    assert sorted(p.name for p in (tree.outside / "run").rglob("*")) == before


@pytest.mark.parametrize("too_long", TOO_LONG.values(), ids=TOO_LONG.keys())
@pytest.mark.parametrize(("method", "route"), RUN_ROUTES, ids=[r for _, r in RUN_ROUTES])
def test_a_run_id_over_255_bytes_names_the_limit(
    tree: Tree, method: str, route: str, too_long: str
) -> None:
    """Longer than a file name can be: 400 saying so, on every endpoint taking a run id."""
    status, body = request(tree, method, route.format(run=quote(too_long)))
    assert status == 400, (route, status)
    assert "longer than 255 bytes" in orjson.loads(body)["detail"]


@pytest.mark.parametrize("value", STAGE_VALUES.values(), ids=STAGE_VALUES.keys())
def test_a_hostile_stage_index_is_refused(tree: Tree, value: str) -> None:
    """Not a stage of the run: 400/404 with one line."""
    path = f"/runs/{tree.run}/stages/{value}/output"
    status, body = request(tree, "GET", path)
    assert_refused(status, body, path)


def test_a_stage_log_linked_out_of_the_tree_is_not_read(tree: Tree) -> None:
    """The stage exists, but its output file leads outside: no line of it is served."""
    status, body = request(tree, "GET", f"/runs/{tree.linked_log_run}/stages/2/output")
    assert status in (200, 404), status
    assert MARKER.encode() not in body
    if status == 200:
        assert orjson.loads(body)["lines"] == []


def test_collected_metadata_linked_out_of_the_tree_is_not_read(tree: Tree) -> None:
    """``metadata.json`` replaced by a link to a look-alike outside: 404, not its content."""
    status, body = request(tree, "GET", f"/artifacts/{tree.linked_log_run}/metadata")
    assert status == 404, (status, body[:300])
    assert_refused(status, body, "metadata")


@pytest.mark.parametrize("value", ARTIFACT_VALUES.values(), ids=ARTIFACT_VALUES.keys())
def test_a_hostile_artifact_path_is_refused(tree: Tree, value: str) -> None:
    """Dots, encodings, absolute paths and links out of the workspace: 400/404."""
    path = f"/artifacts/{tree.run}/files/{value}"
    status, body = request(tree, "GET", path)
    assert_refused(status, body, path)


def test_the_same_tree_still_serves_what_is_inside(tree: Tree) -> None:
    """The refusals above are not a server that refuses everything."""
    for path in (
        f"/runs/{tree.run}",
        f"/runs/{tree.run}/stages/2/output",
        f"/runs/{tree.run}/report.html",
        f"/artifacts/{tree.run}/files/{KEPT}",
    ):
        status, body = request(tree, "GET", path)
        assert status == 200, (path, status, body[:300])
    assert request(tree, "GET", f"/artifacts/{tree.run}/files/{KEPT}")[1] == b"hello kept world\n"


# The same values as MCP tool arguments (decoded: no URL is involved there).
MCP_RUN_ARGUMENTS = [
    ("run_status", "run_id"),
    ("collect_team_artifacts", "team_session_id"),
    ("list_artifacts", "run_id"),
    ("read_artifact", "run_id"),
]


def _call_all(tree: Tree, calls: list[tuple[str, dict[str, str]]]) -> list[tuple[bool, str]]:
    """Each tool call's (is_error, text of its content), through the SDK's own client."""
    server = build_mcp_server(tree.root)

    async def body() -> list[tuple[bool, str]]:
        async with Client(server) as client:
            results = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                text = " ".join(getattr(item, "text", "") for item in result.content)
                results.append((result.is_error, text))
            return results

    return asyncio.run(body())


@pytest.mark.parametrize(("tool", "argument"), MCP_RUN_ARGUMENTS)
def test_mcp_tools_refuse_the_same_run_and_session_ids(
    tree: Tree, tool: str, argument: str
) -> None:
    """Every hostile run id above, a linked-in run and a too-long id: a tool error."""
    values = [unquote(v) for v in RUN_VALUES.values()]
    values += [*TOO_LONG.values(), "/etc/passwd", tree.linked_run]
    extra = {"path": KEPT} if tool == "read_artifact" else {}
    results = _call_all(tree, [(tool, {argument: value, **extra}) for value in values])
    for value, (is_error, text) in zip(values, results, strict=True):
        assert is_error, (tool, value, text[:200])
        assert MARKER not in text
    assert "longer than 255 bytes" in results[len(RUN_VALUES)][1]


def test_mcp_read_artifact_refuses_the_same_paths(tree: Tree) -> None:
    """Every hostile artifact path above, as ``read_artifact``'s path: a tool error."""
    values = [unquote(v) for v in ARTIFACT_VALUES.values()]
    results = _call_all(tree, [("read_artifact", {"run_id": tree.run, "path": v}) for v in values])
    for value, (is_error, text) in zip(values, results, strict=True):
        assert is_error, (value, text[:200])
        assert MARKER not in text
