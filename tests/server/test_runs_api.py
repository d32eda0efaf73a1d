"""The run endpoints, in-process: what a client of ``serve`` reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from codex_orchestrator.server.app import LOOPBACK_HOSTS, AppSettings, create_app

from .helpers import Project, read_json, wait_until


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    """The app over the project's runs (no MCP: those tests have their own)."""
    app = create_app(AppSettings(root=project.root, mount_mcp=False))
    with TestClient(app) as test_client:
        yield test_client


def test_runs_lists_newest_first_like_the_cli(project: Project, client: TestClient) -> None:
    """GET /runs holds the rows of ``runs --all-tasks --format json``, newest first."""
    first = project.start("ok")
    second = project.start("broken")
    response = client.get("/runs")
    assert response.status_code == 200
    rows = response.json()
    assert [row["run_id"] for row in rows] == [second, first]
    assert [row["status"] for row in rows] == ["failed", "succeeded"]
    cli_rows = orjson.loads(project.cli("runs", "--all-tasks", "--format", "json").stdout)
    # The API always has an ``error`` field (null unless the manifest is unreadable).
    assert [{**row, "error": None} for row in cli_rows] == rows


def test_runs_of_one_task_and_a_bad_task(project: Project, client: TestClient) -> None:
    """``?task=`` filters; a task id that would be a path is a 400 naming it."""
    project.start("ok")
    assert len(client.get("/runs", params={"task": "0101"}).json()) == 1
    assert client.get("/runs", params={"task": "other"}).json() == []
    response = client.get("/runs", params={"task": "../etc"})
    assert response.status_code == 400
    assert "task id" in response.json()["detail"]


def test_run_status_has_stages_and_activity(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """GET /runs/{id}: the stages with their outcome, and the runner's activity."""
    response = client.get(f"/runs/{finished_run}")
    assert response.status_code == 200
    run = response.json()
    assert run["status"] == "succeeded"
    assert [(s["id"], s["status"], s["exit_code"]) for s in run["commands"]] == [
        ("build", "succeeded", 0),
        ("test", "succeeded", 0),
    ]
    assert run["activity"]["runner_alive"] is False
    assert run["activity"]["lost"] is False
    status = orjson.loads(project.cli("status", "--run", finished_run, "--format", "json").stdout)
    assert run["manifest_path"] == status["manifest_path"]
    assert run["activity"].keys() == status["activity"].keys()


def test_a_run_whose_runner_died_is_lost(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """In progress on paper with no runner: lost, with the resume command (as ``status``)."""
    manifest_path = project.run_dir(finished_run) / "manifest.json"
    manifest = read_json(manifest_path)
    manifest.update(status="in_progress", completed_at=None, runner_pid=2**22 + 12345)
    manifest_path.write_bytes(orjson.dumps(manifest))
    activity = client.get(f"/runs/{finished_run}").json()["activity"]
    assert activity["lost"] is True
    assert activity["resume_command"] == (
        f"codex-orchestrator resume --run {finished_run} --task 0101"
    )


def test_responses_never_carry_a_resume_token(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """Neither the hash our manifests keep nor a raw token older manifests held."""
    run_dir = project.run_dir(finished_run)
    token = (run_dir / ".resume-token").read_text().strip()
    manifest = read_json(run_dir / "manifest.json")
    hashed = manifest["resume_token"]
    manifest["resume_token"] = token  # as the TypeScript tool wrote it
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))
    for url in ("/runs", f"/runs/{finished_run}", f"/runs/{finished_run}/events"):
        body = client.get(url).text
        assert token not in body
        assert hashed.removeprefix("sha256:") not in body
        assert "resume_token" not in body


def test_stage_output_tail(client: TestClient, finished_run: str) -> None:
    """The last lines of a stage, stdout and stderr in order."""
    tail = client.get(f"/runs/{finished_run}/stages/1/output").json()
    assert tail["stage_id"] == "build"
    assert [(line["stream"], line["data"]) for line in tail["lines"]] == [
        ("stdout", "building"),
        ("stderr", "warn"),
    ]
    two = client.get(f"/runs/{finished_run}/stages/2/output", params={"lines": 2}).json()
    assert [line["data"] for line in two["lines"]] == ["two", "three"]
    assert client.get(f"/runs/{finished_run}/stages/9/output").status_code == 404


def test_a_run_linked_from_outside_the_tree_is_not_served(
    project: Project,
    client: TestClient,
    finished_run: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A run directory that is a link to a tree outside ``.runs`` is not found."""
    outside = tmp_path_factory.mktemp("outside")
    secret_run = outside / "run"
    os.rename(project.run_dir(finished_run), secret_run)
    (secret_run / "runner.ndjson").write_text('{"type":"secret","timestamp":"x"}\n')
    os.symlink(secret_run, project.run_dir(finished_run))
    for url in (
        f"/runs/{finished_run}",
        f"/runs/{finished_run}/events",
        f"/runs/{finished_run}/stages/1/output",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "secret" not in response.text
    assert finished_run not in [row["run_id"] for row in client.get("/runs").json()]


@pytest.mark.parametrize("page", ["", "/report.html"])
def test_an_unknown_run_is_404_and_a_broken_manifest_422(
    project: Project, client: TestClient, finished_run: str, page: str
) -> None:
    """Not found and unreadable are told apart, each with one line (the run's
    document and its HTML report alike)."""
    missing = client.get(f"/runs/2020-01-01T00-00-00-000Z-deadbeef{page}")
    assert missing.status_code == 404
    assert "not found" in missing.json()["detail"]
    (project.run_dir(finished_run) / "manifest.json").write_text("{not json")
    broken = client.get(f"/runs/{finished_run}{page}")
    assert broken.status_code == 422
    assert "not valid JSON" in broken.json()["detail"]
    assert "\n" not in broken.json()["detail"]
    listed = client.get("/runs").json()
    assert listed[0]["status"] == "unreadable"


def test_openapi_describes_every_endpoint(client: TestClient) -> None:
    """The schema names the response models, and the page is not in it."""
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/runs", "/runs/{run_id}", "/runs/{run_id}/events"} <= paths.keys()
    ok = paths["/runs/{run_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/RunDetail"}
    assert "resume_token" not in str(schema["components"]["schemas"]["RunDetail"])
    events = paths["/runs/{run_id}/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in events
    assert "/" not in paths


def test_page_and_static_files_are_served(client: TestClient) -> None:
    """GET / is the web page; its script and style come from this server only."""
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/app.js" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text
        assert "https://" not in response.text


def test_bad_last_event_id_replays_from_the_start(client: TestClient, finished_run: str) -> None:
    """A Last-Event-ID that is not a line start is ignored rather than trusted."""
    whole = client.get(f"/runs/{finished_run}/events").text
    odd = client.get(f"/runs/{finished_run}/events", headers={"Last-Event-ID": "7"}).text
    assert odd == whole
    first_id = int(whole.split("id: ", 1)[1].split("\n", 1)[0])
    rest = client.get(f"/runs/{finished_run}/events", headers={"Last-Event-ID": str(first_id)})
    assert "run:start" not in rest.text
    assert "run:end" in rest.text


def test_unused_root_has_no_runs(tmp_path: Path) -> None:
    """A repository without ``.runs`` lists nothing rather than failing."""
    app = create_app(AppSettings(root=tmp_path / "empty", mount_mcp=False))
    with TestClient(app) as test_client:
        assert test_client.get("/runs").json() == []


def test_an_overlong_run_id_is_a_400(client: TestClient) -> None:
    """Longer than any file name: refused in one line, never an internal error."""
    response = client.get("/runs/" + "0" * 300)
    assert response.status_code == 400
    assert "longer than 255 bytes" in response.json()["detail"]
    assert client.get("/artifacts/" + "\u00a0" * 200 + "/metadata").status_code == 400


def test_a_polled_run_is_answered_alike_and_follows_its_manifest(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """Repeated polls (served from the cache) carry the route's exact bytes and headers,
    and a rewritten manifest shows through."""
    first = client.get(f"/runs/{finished_run}")
    again = client.get(f"/runs/{finished_run}")
    assert again.content == first.content
    assert again.headers == first.headers
    manifest_path = project.run_dir(finished_run) / "manifest.json"
    manifest = read_json(manifest_path)
    manifest["summary"] = "rewritten by the test"
    manifest_path.write_bytes(orjson.dumps(manifest))
    wait_until(
        lambda: client.get(f"/runs/{finished_run}").json()["summary"] == "rewritten by the test",
        "the rewritten manifest",
    )


def test_a_polled_run_still_checks_the_host_header(project: Project, finished_run: str) -> None:
    """On loopback, a cached document is refused to a foreign Host all the same."""
    app = create_app(AppSettings(root=project.root, mount_mcp=False, allowed_hosts=LOOPBACK_HOSTS))
    with TestClient(app, base_url="http://127.0.0.1") as local:
        assert local.get(f"/runs/{finished_run}").status_code == 200
        foreign = local.get(f"/runs/{finished_run}", headers={"Host": "attacker.example"})
        assert foreign.status_code == 400
        assert finished_run not in foreign.text
