"""The artifact endpoints, in-process, against the CLI's own answers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from codex_orchestrator.server.app import AppSettings, create_app

from .helpers import Project, read_json

REPORT = "01-build/out/report.txt"


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    """The app over the project's runs."""
    app = create_app(AppSettings(root=project.root, mount_mcp=False))
    with TestClient(app) as test_client:
        yield test_client


def cli_json(project: Project, *args: str) -> object:
    """What ``codex-orchestrator ARGS --format json`` prints."""
    result = project.cli(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


def test_list_metadata_and_files_match_the_cli(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """GET /artifacts/list, /metadata and /files answer as ``artifacts list/show/ls``."""
    assert client.get("/artifacts/list").json() == cli_json(project, "artifacts", "list")
    metadata = client.get(f"/artifacts/{finished_run}/metadata").json()
    shown = cli_json(project, "artifacts", "show", "--run", finished_run)
    assert isinstance(shown, dict)
    assert metadata["run_id"] == shown["run_id"] == finished_run
    assert metadata["totals"] == shown["totals"]
    assert [i["instance_id"] for i in metadata["instances"]] == ["01-build", "02-test"]
    files = client.get(f"/artifacts/{finished_run}/files").json()
    listed = cli_json(project, "artifacts", "ls", "--run", finished_run)
    # The API always has ``target`` (null unless the entry is a link).
    assert isinstance(listed, list)
    assert files == [{"target": None, **row} for row in listed]
    assert {(f["instance"], f["path"], f["mode"]) for f in files} == {
        ("01-build", "out/report.txt", "archived")
    }


def test_a_kept_file_is_served_as_inert_text(client: TestClient, finished_run: str) -> None:
    """The bytes of ``<instance>/<path>``; never rendered or sniffed as HTML."""
    response = client.get(f"/artifacts/{finished_run}/files/{REPORT}")
    assert response.status_code == 200
    assert response.content == b"hello kept world\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox")


def test_a_link_out_of_the_workspace_is_refused(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """A kept tree tampered with a link to /etc/passwd: 400, no content."""
    workspace = project.run_dir(finished_run) / "artifacts" / "instances" / "01-build"
    os.symlink("/etc/passwd", workspace / "workspace" / "escape")
    response = client.get(f"/artifacts/{finished_run}/files/01-build/escape")
    assert response.status_code in (400, 404)
    assert "root:" not in response.text


def test_collect_rebuilds_and_answers_like_the_seed(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """POST /artifacts/collect/{id}: status, team_session_id, instances_count, metadata."""
    before = read_json(project.run_dir(finished_run) / "artifacts" / "metadata.json")
    response = client.post(f"/artifacts/collect/{finished_run}")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "success"
    assert result["team_session_id"] == finished_run
    assert result["instances_count"] == 2
    after = read_json(project.run_dir(finished_run) / "artifacts" / "metadata.json")
    assert after["collected_at"] >= before["collected_at"]
    assert result["metadata"]["totals"] == after["totals"]
    assert client.get(f"/artifacts/{finished_run}/files").json()
    assert client.get(f"/artifacts/collect/{finished_run}").status_code == 405


def test_collecting_a_run_without_instances_is_409(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """No stage ever started: the seed's error document, with status 409."""
    path = project.run_dir(finished_run) / "manifest.json"
    manifest = read_json(path)
    for command in manifest["commands"]:
        command.update(status="pending", started_at=None, completed_at=None)
    path.write_bytes(orjson.dumps(manifest))
    response = client.post(f"/artifacts/collect/{finished_run}")
    assert response.status_code == 409
    assert response.json()["status"] == "error"
    assert "no stage instances" in response.json()["error"]


def test_search_finds_kept_text_and_output(client: TestClient, finished_run: str) -> None:
    """GET /search?q=: hits with run, instance, path, line and snippet."""
    hits = client.get("/search", params={"q": "kept"}).json()
    assert any(
        hit["run_id"] == finished_run and hit["path"] == "out/report.txt" and hit["line"] == 1
        for hit in hits
    ), hits
    assert client.get("/search", params={"q": "nowhere-to-be-found"}).json() == []
    empty = client.get("/search", params={"q": " "})
    assert empty.status_code == 400
    assert empty.json()["detail"] == "the search query is empty"
    missing = client.get("/search")
    assert missing.status_code == 400
    assert missing.json()["detail"].startswith("query q:")


def test_unknown_runs_and_files_are_not_found(client: TestClient, finished_run: str) -> None:
    """404 for a run that does not exist or a file never kept, 400 for a bad path."""
    assert client.get("/artifacts/2020-01-01T00-00-00-000Z-deadbeef/metadata").status_code == 404
    assert client.post("/artifacts/collect/2020-01-01T00-00-00-000Z-deadbeef").status_code == 404
    gone = client.get(f"/artifacts/{finished_run}/files/01-build/absent.txt")
    assert gone.status_code in (400, 404)
    assert client.get(f"/artifacts/{finished_run}/files/noslash").status_code == 400
