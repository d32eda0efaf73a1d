"""The HTML report of real runs: self-contained, escaped, and drawn by a real Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Browser

from .browser import chromium, open_page
from .runs import HOSTILE_LINE, HOSTILE_TITLE, SampleRuns, cli, run_dir

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "xlink:href"}


class _Elements(HTMLParser):
    """Every start tag of a document with its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for this module's pages."""
    with chromium() as launched:
        yield launched


def _html(sample_runs: SampleRuns, run_id: str, tmp_path: Path) -> tuple[str, Path]:
    data = sample_runs.report(run_id, "html")
    path = tmp_path / "report.html"
    path.write_bytes(data)
    return data.decode("utf-8"), path


def test_self_contained_without_any_network_reference(
    sample_runs: SampleRuns, tmp_path: Path
) -> None:
    text, _ = _html(sample_runs, sample_runs.ci, tmp_path)
    assert text.startswith("<!DOCTYPE html>")
    parser = _Elements()
    parser.feed(text)
    links = [
        value or ""
        for _, attrs in parser.tags
        for name, value in attrs.items()
        if name in URL_ATTRIBUTES or name.startswith("on")
    ]
    assert links, "the timeline links its bars to the stage rows"
    # Only links within the page: no http://, https:// or protocol-relative //.
    assert all(link.startswith("#s-") for link in links), links
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"link", "img", "iframe", "object", "embed", "base", "form", "svg"}
    assert [tag for tag, _ in parser.tags].count("script") == 1
    for marker in ("url(", "@import"):
        assert marker not in text, marker
    assert "default-src 'none'" in text  # the page's CSP forbids every fetch too
    # Command output and config text are escaped: our own script is the only script.
    assert text.count("<script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_rendered_at_desktop_size(
    sample_runs: SampleRuns, tmp_path: Path, browser: Browser
) -> None:
    _, path = _html(sample_runs, sample_runs.ci, tmp_path)
    with open_page(browser, path, 1280, 800) as loaded:
        assert loaded.js("document.body.dataset.ready") == "1"
        # Every stage has a row, child run's stages included; every started stage a bar.
        assert loaded.js("document.querySelectorAll('tr.stage').length") == 6
        assert loaded.js("document.querySelectorAll('.tl .bar').length") == 5
        ids = loaded.js(
            "[...document.querySelectorAll('tr.stage td.name code.sid')].map(e => e.textContent)"
        )
        assert ids == ["build", "checks", "lint", "spec-guard", "hostile", "after"]
        statuses = loaded.js(
            "[...document.querySelectorAll('tr.stage')].map(r => r.dataset.status)"
        )
        assert statuses == ["succeeded"] * 4 + ["failed", "pending"]
        # The child run's lane is drawn below the parent's, with its bars inside the span.
        rows = loaded.js(
            "[...document.querySelectorAll('.tl-row:not(.tl-axis)')].map(r => "
            "[r.dataset.depth, r.querySelectorAll('.bar').length])"
        )
        assert rows == [["0", 3], ["1", 2]]
        widths = loaded.js(
            "[...document.querySelectorAll('.tl .bar')].map(b => b.getBoundingClientRect().width)"
        )
        assert all(width >= 2 for width in widths)
        assert "Failed (stage:hostile:failed)" in loaded.js(
            "document.getElementById('statusline').textContent"
        )
        tail = loaded.js("document.querySelector('#failures pre').textContent")
        assert HOSTILE_LINE in tail
        assert "\\x1b[31mred" in tail
        assert HOSTILE_TITLE in loaded.js("document.querySelector('#s-5 td.name').textContent")
        assert loaded.js("document.scripts.length") == 1
        assert loaded.js("document.images.length") == 0
        assert "spec-guard not configured" in loaded.js(
            "document.getElementById('guardrail').textContent"
        )
        children = loaded.js(
            "[...document.querySelectorAll('#children tbody td')].map(c => c.textContent)"
        )
        assert children[:3] == [sample_runs.child, "checks", "succeeded"]
        # Filtering by status (the page's own script) hides the other rows.
        loaded.page.click("#filters button[data-status=failed]")
        assert loaded.js(
            "[...document.querySelectorAll('tr.stage')].filter(r => r.offsetHeight > 0)"
            ".map(r => r.id)"
        ) == ["s-5"]
        loaded.page.screenshot(path=tmp_path / "desktop.png", full_page=True)
        assert loaded.requests == [path.as_uri()]
        assert loaded.console_errors == []
        assert loaded.dialogs == []
    assert (tmp_path / "desktop.png").read_bytes().startswith(PNG_MAGIC)


def test_readable_on_a_phone(sample_runs: SampleRuns, tmp_path: Path, browser: Browser) -> None:
    _, path = _html(sample_runs, sample_runs.ci, tmp_path)
    with open_page(browser, path, 390, 844) as loaded:
        assert loaded.js("innerWidth") == 390
        # Nothing makes the page scroll sideways; stage rows become cards.
        assert loaded.js("document.documentElement.scrollWidth") <= 390
        assert (
            loaded.js("getComputedStyle(document.querySelector('tr.stage td')).display") == "block"
        )
        assert loaded.js("document.querySelectorAll('.tl .bar').length") == 5
        loaded.page.screenshot(path=tmp_path / "phone.png", full_page=True)
        # The status filter hides cards too (rows are blocks here, not table rows).
        loaded.page.click("#filters button[data-status=failed]")
        shown = loaded.js(
            "[...document.querySelectorAll('tr.stage')].filter(r => r.offsetHeight > 0)"
            ".map(r => r.id)"
        )
        assert shown == ["s-5"]
        assert loaded.console_errors == []
    assert (tmp_path / "phone.png").read_bytes().startswith(PNG_MAGIC)


def test_a_timed_out_stage_and_a_resumed_run(
    sample_runs: SampleRuns, tmp_path: Path, browser: Browser
) -> None:
    _, path = _html(sample_runs, sample_runs.slow, tmp_path)
    with open_page(browser, path, 1280, 800) as loaded:
        failures = loaded.js("document.getElementById('failures').textContent")
        assert "command-timeout" in failures
        assert "waiting" in failures
        assert loaded.js(
            "[...document.querySelectorAll('tr.stage')].map(r => r.dataset.status)"
        ) == ["skipped", "failed"]
    _, path = _html(sample_runs, sample_runs.flaky, tmp_path)
    with open_page(browser, path, 1280, 800) as loaded:
        resume = loaded.js("document.getElementById('resume').textContent")
        assert "accepted" in resume
        assert "retry <b>now</b>" in resume  # text, as given
        assert loaded.js("document.getElementById('failures')") is None
        assert loaded.js("document.body.dataset.status") == "succeeded"


def test_artifacts_and_gates_from_the_manifest(
    sample_runs: SampleRuns, tmp_path: Path, browser: Browser
) -> None:
    """The manifest's ``artifacts[]`` and ``gates[]`` (LAYERS.md section 1) are shown."""
    shutil.copytree(sample_runs.project / ".runs", tmp_path / ".runs", symlinks=True)
    manifest_path = run_dir(tmp_path, sample_runs.ci) / "manifest.json"
    manifest = orjson.loads(manifest_path.read_bytes())
    manifest["artifacts"] = [
        {
            "name": "test_results",
            "path": "artifacts/test-results.json",
            "producer": "build",
            "format": "json",
            "status": "invalid",
            "sha256": "ab" * 32,
            "size_bytes": 2048,
            "validated_at": "2026-01-01T00:00:00.000Z",
            "findings": [
                {"rule": "minimum_coverage", "severity": "error", "message": "62 < 80 <b>"}
            ],
        }
    ]
    manifest["gates"] = [
        {
            "id": "coverage",
            "artifact": "test_results",
            "fired": True,
            "action": "block",
            "stages": ["deploy"],
            "notify": ["backend-agent"],
            "message": "coverage below 80",
            "evaluated_at": "2026-01-01T00:00:01.000Z",
        }
    ]
    manifest_path.write_bytes(orjson.dumps(manifest))
    out = tmp_path / "page.html"
    result = cli(tmp_path, "report", "--run", sample_runs.ci, "--out", str(out))
    assert result.returncode == 0, result.stderr
    with open_page(browser, out, 1280, 800) as loaded:
        artifacts = loaded.js(
            "[...document.querySelectorAll('#artifacts tbody td')].map(c => c.textContent)"
        )
        assert artifacts[:5] == [
            "test_results",
            "invalid",
            "artifacts/test-results.json",
            "build",
            "json",
        ]
        assert "error: minimum_coverage: 62 < 80 <b>" in artifacts
        gates = loaded.js(
            "[...document.querySelectorAll('#gates tbody td')].map(c => c.textContent)"
        )
        assert gates[:6] == ["coverage", "test_results", "yes", "block", "deploy", "backend-agent"]
