#!/usr/bin/env python3
"""Take the README's screenshot of the web page: a demo run, served, in headless Chromium.

Usage: ``python scripts/web-screenshot.py [OUT.png]`` (default ``docs/web-page.png``).
Needs the ``server`` and ``test`` extras (Playwright) and Debian's ``chromium``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STAGES = [
    ("install", "echo resolving 12 packages; sleep 0.4; echo installed"),
    ("lint", "echo 'ruff: all checks passed'; sleep 0.3"),
    ("unit-tests", 'for i in 1 2 3 4 5 6; do echo "test_case_$i PASSED"; sleep 0.2; done'),
    ("build", "echo 'building wheel'; sleep 0.5; echo 'dist/demo-1.0-py3-none-any.whl'"),
    ("spec-guard", "echo 'spec-guard: README.md documents all commands'"),
]


def main() -> int:
    """Make a demo project, run it, serve it, and photograph the run's page."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "web-page.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp)
        stages = [
            {"kind": "command", "id": name, "title": name, "command": shell}
            for name, shell in STAGES
        ]
        config = {"pipelines": [{"id": "ci", "title": "Continuous integration", "stages": stages}]}
        (project / "codex.orchestrator.json").write_text(json.dumps(config))
        cli = [sys.executable, "-m", "codex_orchestrator"]
        subprocess.run(
            [*cli, "start", "ci", "--format", "json"],
            cwd=project,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        document = subprocess.run(
            [*cli, "runs", "--format", "json"], cwd=project, check=True, capture_output=True
        )
        run_id = json.loads(document.stdout)[0]["run_id"]
        server = subprocess.Popen(
            [*cli, "serve", "--port", "0"], cwd=project, stderr=subprocess.PIPE
        )
        try:
            first_line = server.stderr.readline().decode() if server.stderr else ""
            match = re.search(r"on (http://\S+/) ", first_line)
            if match is None:
                print("serve did not start", file=sys.stderr)
                return 1
            url = match.group(1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 860})
                page.goto(f"{url}#/runs/{run_id}")
                page.click("tr[data-stage=unit-tests]")
                page.wait_for_function(
                    "document.querySelector('#output').textContent.includes('test_case_6')"
                )
                page.screenshot(path=str(out), full_page=False)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            if server.stderr is not None:
                server.stderr.close()
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
