"""``GET /runs/{run_id}/report.html``: the run's HTML report, as ``report`` renders it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from codex_orchestrator.server.app import AppSettings, create_app

from .helpers import Project, read_json

FOOTER = re.compile(r"<footer>Generated [^<]* by ")


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    """The app over the project's runs."""
    app = create_app(AppSettings(root=project.root, mount_mcp=False))
    with TestClient(app) as test_client:
        yield test_client


def test_the_report_is_the_one_the_cli_renders(
    project: Project, client: TestClient, finished_run: str
) -> None:
    """Same page as ``report --format html`` (but for when it was generated), as HTML."""
    response = client.get(f"/runs/{finished_run}/report.html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    cli = project.cli("report", "--run", finished_run, "--format", "html")
    assert cli.returncode == 0, cli.stderr
    assert FOOTER.sub("", response.text) == FOOTER.sub("", cli.stdout)
    assert 'id="timeline"' in response.text
    assert f"{finished_run}</title>" in response.text


def test_the_report_is_sandboxed_and_never_cached(client: TestClient, finished_run: str) -> None:
    """Its own policy as a header too (only its script, no network), in a sandbox."""
    headers = client.get(f"/runs/{finished_run}/report.html").headers
    policy = headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts; default-src 'none';")
    assert "connect-src" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_the_run_document_links_its_report(client: TestClient, finished_run: str) -> None:
    """``report_url`` in GET /runs/{id} is where the report is served."""
    url = client.get(f"/runs/{finished_run}").json()["report_url"]
    assert url == f"/runs/{finished_run}/report.html"
    assert client.get(url).status_code == 200


def test_a_failed_run_report_shows_why(project: Project, client: TestClient) -> None:
    """The failing stage, its reason and its last lines."""
    run_id = project.start("broken")
    page = client.get(f"/runs/{run_id}/report.html").text
    assert 'data-status="failed"' in page
    assert "boom" in page
    assert "command-failed" in page


def test_a_live_run_report_shows_it_so_far(project: Project, client: TestClient) -> None:
    """Rendered at each request: a run in progress shows its running stage."""
    run_id = project.start("ok")
    manifest_path = project.run_dir(run_id) / "manifest.json"
    manifest = read_json(manifest_path)
    manifest.update(status="in_progress", completed_at=None, journal_offset=None)
    manifest["commands"][1].update(status="running", completed_at=None, exit_code=None)
    manifest_path.write_bytes(orjson.dumps(manifest))
    page = client.get(f"/runs/{run_id}/report.html").text
    assert '<body data-status="in_progress">' in page
    assert 'data-status="running"' in page


def test_an_error_file_linked_out_of_the_tree_is_not_embedded(
    project: Project, client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A failed stage's error file replaced by a link outside: its content stays out."""
    run_id = project.start("broken")
    error_file = next((project.run_dir(run_id) / "errors").glob("01-*.json"))
    document = read_json(error_file)
    document["details"]["stdout_tail"] = "OUTSIDE-THE-TREE"
    outside = tmp_path_factory.mktemp("outside") / "error.json"
    outside.write_bytes(orjson.dumps(document))
    error_file.unlink()
    os.symlink(outside, error_file)
    response = client.get(f"/runs/{run_id}/report.html")
    assert response.status_code == 200
    assert "OUTSIDE-THE-TREE" not in response.text


def test_openapi_types_the_report_as_html(client: TestClient) -> None:
    """The schema says what comes back: an HTML document, or the one-line errors."""
    operation = client.get("/openapi.json").json()["paths"]["/runs/{run_id}/report.html"]["get"]
    assert operation["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert {"400", "404", "422"} <= operation["responses"].keys()
