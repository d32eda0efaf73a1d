"""The HTML report of a 2,000-stage run: its size, and how fast headless Chromium renders it.

Makes real runs with the real CLI in a temp project (2,000 stages, some failing with
output; and a 1-stage baseline), renders each run's page with ``report --format html``,
then loads each page in the system's headless Chromium (Playwright, ``[test]`` extra) at
1280x800 and 390x844. Printed: file size, report generation time, and render time (from
navigation to the first frame painted after the load event), median (min-max) over
``--repeat`` loads, beside the 1-stage baseline measured in the same run.

    python bench/bench_report_html.py [--stages 2000] [--repeat 5] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from playwright.sync_api import Browser, sync_playwright

SIZE_TARGET_BYTES = 5 * 1000 * 1000
RENDER_TARGET_SECONDS = 2.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Two animation frames after load: the page has been laid out and painted.
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _stage(index: int) -> dict[str, Any]:
    stage: dict[str, Any] = {"kind": "command", "id": f"s{index:04d}", "title": f"Stage {index}"}
    if index % 100 == 0:  # one in a hundred fails (allowed) with some output
        stage["command"] = f"seq 1 40; echo 'error: stage {index} broke' >&2; exit 2"
        stage["allowFailure"] = True
    else:
        stage["command"] = "true"
    return stage


def _config(stages: int) -> dict[str, Any]:
    return {
        "defaultPipeline": "big",
        "pipelines": [
            {"id": "big", "title": "Big", "stages": [_stage(i) for i in range(1, stages + 1)]},
            {"id": "one", "title": "One", "stages": [_stage(1)]},
        ],
    }


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_ORCHESTRATOR_")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        env=env,
        capture_output=True,
        check=False,
    )


def _make_page(project: Path, pipeline: str) -> tuple[Path, float]:
    """Run a pipeline, render its page; the page and the render command's wall time."""
    started = _cli(project, "start", pipeline, "--format", "json")
    run_id = orjson.loads(started.stdout)["run_id"]
    page = project / f"{pipeline}.html"
    begin = time.perf_counter()
    result = _cli(project, "report", "--run", run_id, "--out", str(page))
    elapsed = time.perf_counter() - begin
    if result.returncode != 0:
        sys.exit(f"report failed: {result.stderr.decode()}")
    return page, elapsed


def _render_seconds(browser: Browser, page_path: Path, width: int, height: int) -> float:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    begin = time.perf_counter()
    page.goto(page_path.as_uri(), wait_until="load")
    page.evaluate(PAINTED)
    elapsed = time.perf_counter() - begin
    if page.evaluate("document.body.dataset.ready") != "1":
        sys.exit(f"{page_path.name}: the page's script did not run")
    context.close()
    return elapsed


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def main() -> int:
    """Measure and print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temp project")
    options = parser.parse_args()
    project = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        (project / "codex.orchestrator.json").write_bytes(orjson.dumps(_config(options.stages)))
        print(f"running a {options.stages}-stage pipeline ...", file=sys.stderr)
        big, big_generation = _make_page(project, "big")
        one, one_generation = _make_page(project, "one")
        rows: list[tuple[str, str, str, str, str]] = []
        big_size, one_size = big.stat().st_size, one.stat().st_size
        size_ok = big_size < SIZE_TARGET_BYTES
        rows.append(
            (
                "HTML file size",
                f"{one_size / 1e3:.1f} kB",
                f"{big_size / 1e6:.2f} MB",
                "< 5 MB",
                "PASS" if size_ok else "FAIL",
            )
        )
        rows.append(
            (
                "`report --format html` wall time",
                f"{one_generation:.3f} s",
                f"{big_generation:.3f} s",
                "",
                "",
            )
        )
        verdicts = [size_ok]
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for width, height in ((1280, 800), (390, 844)):
                samples: dict[Path, list[float]] = {big: [], one: []}
                _render_seconds(browser, big, width, height)  # warm-up
                for _ in range(options.repeat):
                    for page in (one, big):
                        samples[page].append(_render_seconds(browser, page, width, height))
                ok = statistics.median(samples[big]) < RENDER_TARGET_SECONDS
                verdicts.append(ok)
                rows.append(
                    (
                        f"render in headless Chromium at {width}x{height}",
                        _spread(samples[one]),
                        _spread(samples[big]),
                        "< 2 s",
                        "PASS" if ok else "FAIL",
                    )
                )
            browser.close()
        load = os.getloadavg()
        print(f"# HTML report, {options.stages} stages (load average {load[0]:.2f})")
        print(f"| figure | baseline: 1 stage | {options.stages} stages | target | result |")
        print("| --- | --- | --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return 0 if all(verdicts) else 1
    finally:
        if options.keep:
            print(f"kept {project}", file=sys.stderr)
        else:
            shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
