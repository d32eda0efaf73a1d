"""The web page in a real headless Chromium: a stage turns from running to succeeded live."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .helpers import Project, Server, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: two cores shared with other work; nothing here measures speed.
EXPECT_MS = 30_000

pytestmark = pytest.mark.slow


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (no browser download)."""
    assert CHROMIUM.exists(), "install chromium (.ci/run does when it is missing)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """A new page, recording every request that leaves this server."""
    page = browser.new_page()
    page.set_default_timeout(EXPECT_MS)
    foreign: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(url) else foreign.append(r.url))
    return page, foreign


def test_a_running_stage_turns_succeeded_without_reloading(
    project: Project, start_server: Callable[..., Server], browser: Browser
) -> None:
    """Open a live run's page; the sleeping stage shows running, then succeeded."""
    server = start_server()
    runner = project.spawn("start", "slow", "--format", "json")
    run_id = wait_until(project.newest_run, "the run directory")
    wait_until((project.run_dir(run_id) / "manifest.json").is_file, "the manifest")
    page, foreign = open_page(browser, server.url)
    page.goto(f"{server.url}/#/runs/{run_id}")
    page.evaluate("window.loadedOnce = true")
    stage = page.locator("#stage-2-status")
    expect(stage).to_have_attribute("data-status", "running")
    expect(page.locator("#output")).to_contain_text("waiting")
    live_file = page.locator('#artifact-files tr[data-file="02-wait/progress.txt"]')
    expect(live_file).to_have_attribute("data-mode", "live")
    expect(stage).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#output")).to_contain_text("woke")
    expect(live_file).to_have_attribute("data-mode", "archived")
    assert page.evaluate("window.loadedOnce") is True  # the same document: no reload
    assert page.locator("#timeline .bar").count() == 2
    expect(page.locator("main")).not_to_contain_text("null")
    runner.communicate(timeout=60)
    assert runner.returncode == 0
    assert foreign == []


def test_the_runs_list_is_newest_first_and_links_to_a_run(
    project: Project, start_server: Callable[..., Server], browser: Browser
) -> None:
    """The list shows every run newest first; a click opens its stages and output."""
    older = project.start("ok")
    newer = project.start("broken")
    server = start_server()
    page, foreign = open_page(browser, server.url)
    page.goto(f"{server.url}/")
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-run") for i in range(2)] == [newer, older]
    page.click(f"text={newer}")
    expect(page.locator("#run-status")).to_have_text("failed")
    expect(page.locator("#stage-1-status")).to_have_attribute("data-status", "failed")
    expect(page.locator("#output")).to_contain_text("boom")
    page.click("text=← all runs")
    page.click(f"text={older}")
    page.click("tr[data-stage=test]")
    expect(page.locator("#output")).to_have_text("one\ntwo\nthree\n")
    kept = page.locator('#artifact-files tr[data-file="01-build/out/report.txt"] a')
    expect(kept).to_have_attribute("href", f"/artifacts/{older}/files/01-build/out/report.txt")
    assert foreign == []


def test_a_run_links_to_its_html_report(
    project: Project, start_server: Callable[..., Server], browser: Browser
) -> None:
    """The list and the run's page link the report; the link opens it, timeline and all."""
    run_id = project.start("broken")
    server = start_server()
    page, foreign = open_page(browser, server.url)
    page.goto(f"{server.url}/")
    report_url = f"/runs/{run_id}/report.html"
    listed = page.locator(f'#runs tr[data-run="{run_id}"] a.report-link')
    expect(listed).to_have_attribute("href", report_url)
    page.click(f"text={run_id}")
    link = page.locator("#report-link")
    expect(link).to_have_attribute("href", report_url)
    link.click()
    page.wait_for_url(f"{server.url}{report_url}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")  # its script ran
    expect(page.locator("body")).to_have_attribute("data-status", "failed")
    expect(page).to_have_title(re.compile(re.escape(run_id)))
    expect(page.locator("#timeline .bar")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("boom")
    page.go_back()
    expect(page.locator("#run-status")).to_have_text("failed")
    assert foreign == []
