"""Rendering a page in the system's headless Chromium (Debian's ``chromium``) via Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

# Chromium as root in a container needs no sandbox; the rest keeps it off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system Chromium (``.ci/run`` installs it when missing)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed (apt-get install -y chromium)"
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh profile."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Loaded:
    """A page after load, with what happened while it loaded."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def js(self, expression: str) -> Any:
        """Evaluate an expression in the page."""
        return self.page.evaluate(expression)


@contextmanager
def open_page(browser: Browser, path: Path, width: int, height: int) -> Iterator[Loaded]:
    """Load a file at a viewport size, recording requests, console errors and dialogs."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    loaded = Loaded(page)
    page.on("request", lambda request: loaded.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            loaded.console_errors.append(message.text) if message.type == "error" else None
        ),
    )

    def on_dialog(dialog: Any) -> None:
        loaded.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: loaded.console_errors.append(str(error)))
    page.goto(path.as_uri(), wait_until="load")
    try:
        yield loaded
    finally:
        context.close()
