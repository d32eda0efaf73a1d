"""``GET /runs/{id}/events``: a finished run replayed, a live run followed to its end."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import orjson

from .helpers import Project, Server, read_json, wait_until


def sse_messages(server: Server, path: str) -> Iterator[tuple[str, dict[str, object]]]:
    """Each server-sent event as (event name, parsed data), read as it arrives."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    connection.request("GET", path, headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    name, data = "message", b""
    try:
        while True:
            line = response.readline()
            if not line:
                return
            line = line.rstrip(b"\n")
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif not line and data:
                yield name, orjson.loads(data)
                name, data = "message", b""
    finally:
        connection.close()


def test_a_finished_run_is_replayed_then_ends(
    project: Project, start_server: Callable[..., Server], finished_run: str
) -> None:
    """Every event of runner.ndjson in order, then one ``end`` event with the status."""
    server = start_server()
    messages = list(sse_messages(server, f"/runs/{finished_run}/events"))
    written = [
        orjson.loads(line)
        for line in (project.run_dir(finished_run) / "runner.ndjson").read_bytes().splitlines()
    ]
    assert [data for name, data in messages if name == "message"] == written
    assert messages[-1] == ("end", {"status": "succeeded", "lost": False})
    quiet = list(sse_messages(server, f"/runs/{finished_run}/events?output=false"))
    assert [data["type"] for _, data in quiet if "type" in data] == [
        event["type"] for event in written if not str(event["type"]).startswith("command:std")
    ]


def test_a_live_run_is_followed_while_it_runs(
    project: Project, start_server: Callable[..., Server]
) -> None:
    """Output arrives while its stage still runs; the stream ends when the run does."""
    server = start_server()
    runner = project.spawn("start", "slow", "--format", "json")
    run_id = wait_until(project.newest_run, "the run directory")
    manifest = project.run_dir(run_id) / "manifest.json"
    wait_until(manifest.is_file, "the manifest")
    seen_while_running = None
    kinds = []
    for name, data in sse_messages(server, f"/runs/{run_id}/events"):
        kinds.append(data.get("type", name))
        if data.get("data") == "waiting":
            # The stage sleeps after printing this: it must still be running now.
            stages = read_json(manifest)["commands"]
            seen_while_running = stages[1]["status"]
    runner.communicate(timeout=60)
    assert runner.returncode == 0
    assert seen_while_running == "running"
    assert kinds[0] == "run:start"
    assert kinds[-2:] == ["run:end", "end"]
    assert "woke" in (project.run_dir(run_id) / "runner.ndjson").read_text()


def test_a_lost_run_ends_the_stream_with_its_torn_tail(
    project: Project, start_server: Callable[..., Server], finished_run: str
) -> None:
    """A runner that died mid-line: the fragment is sent as log:torn and the stream ends."""
    run_dir = project.run_dir(finished_run)
    manifest = read_json(run_dir / "manifest.json")
    manifest.update(status="in_progress", completed_at=None, runner_pid=2**22 + 4321)
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))
    log = run_dir / "runner.ndjson"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]) + b'{"type":"command:stdout","da')
    server = start_server()
    messages = list(sse_messages(server, f"/runs/{finished_run}/events"))
    assert messages[-1] == ("end", {"status": "in_progress", "lost": True})
    torn = messages[-2][1]
    assert torn["type"] == "log:torn"
    assert torn["data_b64"] == "eyJ0eXBlIjoiY29tbWFuZDpzdGRvdXQiLCJkYQ=="
