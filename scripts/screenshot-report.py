#!/usr/bin/env python3
"""Make the README's screenshot of the HTML report: docs/report.png.

Runs a small demo pipeline with the real CLI in a temp project (a subpipeline, a failed
stage, a stage left pending), renders its HTML report, and photographs the page in the
system's headless Chromium at 1280 px wide (Playwright, from the ``[test]`` extra).

    python scripts/screenshot-report.py [--out docs/report.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_BYTES = 300 * 1000


def _command(stage_id: str, title: str, command: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "command", "id": stage_id, "title": title, "command": command, **extra}


DEMO_CONFIG: dict[str, Any] = {
    "defaultPipeline": "ci",
    "pipelines": [
        {
            "id": "ci",
            "title": "Continuous integration",
            "stages": [
                _command("install", "Install", "echo 'Resolved 42 packages'; sleep 0.4"),
                _command("lint", "Lint", "sleep 0.3; echo 'All checks passed!'"),
                {"kind": "subpipeline", "id": "checks", "title": "Checks", "pipeline": "checks"},
                _command(
                    "integration",
                    "Integration tests",
                    'for t in login signup billing; do echo "test_$t PASSED"; sleep 0.15; done; '
                    "echo 'test_refund FAILED'; echo; "
                    "echo 'E   AssertionError: expected <Refund status=done>, got None' >&2; "
                    "echo '1 failed, 3 passed in 0.61s' >&2; exit 1",
                ),
                _command("deploy", "Deploy preview", "echo deploying"),
            ],
        },
        {
            "id": "checks",
            "title": "Checks",
            "stages": [
                _command("unit", "Unit tests", "sleep 0.5; echo '128 passed in 0.48s'"),
                _command("types", "Type check", "sleep 0.25; echo 'Success: no issues found'"),
                _command("spec-guard", "Spec guard", "echo 'spec-guard: all commands documented'"),
            ],
        },
    ],
}


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_ORCHESTRATOR_")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        env={**env, "MCP_RUNNER_TASK_ID": "demo"},
        capture_output=True,
        check=False,
    )


def main() -> int:
    """Run the demo, render it, photograph it; 1 when the PNG is too big."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    options = parser.parse_args()
    project = Path(tempfile.mkdtemp(prefix="report-demo-"))
    try:
        (project / "codex.orchestrator.json").write_bytes(orjson.dumps(DEMO_CONFIG))
        started = _cli(project, "start", "--format", "json")
        run_id = orjson.loads(started.stdout)["run_id"]
        page_path = project / "report.html"
        rendered = _cli(project, "report", "--run", run_id, "--out", str(page_path))
        if rendered.returncode != 0:
            print(rendered.stderr.decode(), file=sys.stderr)
            return 1
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_path.as_uri(), wait_until="load")
            options.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(options.out), full_page=True)
            browser.close()
    finally:
        shutil.rmtree(project, ignore_errors=True)
    size = options.out.stat().st_size
    print(f"wrote {options.out} ({size / 1000:.0f} kB)")
    return 0 if size < MAX_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
