"""The Dask executor against the local one, on the same pipelines, in one run.

Starts a local Dask cluster of 2 worker processes in this process, then times
``codex-orchestrator start`` on each pipeline with the local executor and with
``--scheduler`` pointing at the cluster, alternating (local, dask, local, dask ...)
after one warm-up round, and prints a markdown table:

- ``stages-200``: 200 ``true`` stages one after another; per-stage overhead of the
  cluster = (dask wall - local wall) / 200.
- ``parallel-16``: 16 ``sleep 1`` stages at once (``--jobs 16``; the workers have 8
  threads each); wall time against the 1 s ideal.
- ``live-delay``: a stage prints a timestamped line every 100 ms for 2 s; the delay from
  the worker printing a line to its event's timestamp in ``runner.ndjson``.

Usage: ``python bench/bench_dask.py [--repeat N]`` (needs the ``[dask]`` extra).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

STAGES = 200
PARALLEL = 16
TICKS = 20


def _config(stages: list[dict[str, Any]], pipeline_id: str) -> dict[str, Any]:
    return {"pipelines": [{"id": pipeline_id, "title": pipeline_id, "stages": stages}]}


def _command(stage_id: str, shell: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "command", "id": stage_id, "title": stage_id, "command": shell, **extra}


def write_project(root: Path) -> None:
    """One project holding the three pipelines."""
    pipelines = [
        _config([_command(f"s{i:03d}", "true") for i in range(STAGES)], "stages-200"),
        _config(
            [
                _command("root", "true"),
                *(_command(f"p{i:02d}", "sleep 1", needs=["root"]) for i in range(PARALLEL)),
            ],
            "parallel-16",
        ),
        _config(
            [
                _command(
                    "ticks",
                    f"for i in $(seq 1 {TICKS}); do date +%s.%N; sleep 0.1; done",
                )
            ],
            "live-delay",
        ),
    ]
    document = {"pipelines": [p["pipelines"][0] for p in pipelines]}
    (root / "codex.orchestrator.json").write_bytes(orjson.dumps(document))


def run_once(root: Path, pipeline: str, extra: list[str]) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one ``start`` and its JSON document."""
    argv = [sys.executable, "-m", "codex_orchestrator", "start", pipeline, "--format", "json"]
    argv += ["--no-interactive", *extra]
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=root, capture_output=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{pipeline} {extra}: exit {result.returncode}: {result.stderr[-2000:]!r}")
    return wall, orjson.loads(result.stdout)


def delays(root: Path, document: dict[str, Any]) -> list[float]:
    """Seconds from each printed timestamp to its event's timestamp."""
    log = root / document["log_path"]
    found = []
    for line in log.read_bytes().splitlines():
        event = orjson.loads(line)
        if event.get("type") != "command:stdout":
            continue
        printed = float(event["data"])
        logged = datetime.fromisoformat(event["timestamp"]).timestamp()
        found.append(logged - printed)
    return found


def cell(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    """``median (min-max)`` of ``values`` times ``scale``."""
    med = statistics.median(values) * scale
    return f"{med:.3f} {unit} ({min(values) * scale:.3f}-{max(values) * scale:.3f})"


def main() -> None:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from distributed import LocalCluster

    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="co-bench-dask-") as tmp,
        LocalCluster(
            n_workers=2,
            threads_per_worker=8,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=40,
        ) as cluster,
    ):
        root = Path(tmp)
        write_project(root)
        dask = ["--scheduler", cluster.scheduler_address]
        walls: dict[tuple[str, str], list[float]] = {}
        lags: list[float] = []
        for round_no in range(args.repeat + 1):
            for pipeline, jobs in (("stages-200", "1"), ("parallel-16", str(PARALLEL + 1))):
                for name, extra in (("local", []), ("dask", dask)):
                    wall, _ = run_once(root, pipeline, ["--jobs", jobs, *extra])
                    if round_no:
                        walls.setdefault((pipeline, name), []).append(wall)
            _, document = run_once(root, "live-delay", dask)
            if round_no:
                lags += delays(root, document)
            print(f"round {round_no}/{args.repeat} done", file=sys.stderr)
    per_stage = [
        (d - loc) / STAGES
        for loc, d in zip(walls["stages-200", "local"], walls["stages-200", "dask"], strict=True)
    ]
    print(f"Dask executor vs local; 2-worker local cluster; load average {load:.2f} at start")
    print()
    print("| scenario | figure | local | dask |")
    print("| --- | --- | --- | --- |")
    for pipeline in ("stages-200", "parallel-16"):
        print(
            f"| `{pipeline}` | wall | {cell(walls[pipeline, 'local'])} "
            f"| {cell(walls[pipeline, 'dask'])} |"
        )
    print(
        f"| `stages-200` | per-stage overhead of the cluster | — | {cell(per_stage, 1000, 'ms')} |"
    )
    lags.sort()
    p95 = lags[int(len(lags) * 0.95) - 1]
    print(
        f"| `live-delay` | line printed on a worker -> event in runner.ndjson "
        f"({len(lags)} lines) | — | median {statistics.median(lags) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
