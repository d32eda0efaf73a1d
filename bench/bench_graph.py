"""Graph runs: a 200-stage graph with --jobs 2 against the same 200 stages run in sequence.

Prints, as a markdown table, medians (min-max) of ``--repeat`` rounds measured in one
run, alternating the variants:

- ``sequential``: 200 stages of ``true`` without ``needs`` (the linear chain);
- ``graph --jobs 2``: the same 200 stages as a graph (a root, 198 stages needing it,
  and a join needing them all), two at a time;
- ``startup``: a 1-stage pipeline (the fixed cost subtracted from the per-stage figure);
- ``diamond``: 4 stages of ``sleep 1`` (a, then b and c, then d), sequential vs --jobs 2,
  where parallel stages should save one second.

Per-stage overhead = (wall - startup wall) / 199 (the start-up run has one stage). Usage:
``python bench/bench_graph.py [--repeat 5] [--stages 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def stage(stage_id: str, command: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "command", "id": stage_id, "title": stage_id, "command": command, **extra}


def config(count: int) -> dict[str, Any]:
    fan = [stage("root", "true")]
    fan += [stage(f"s{i}", "true", needs=["root"]) for i in range(1, count - 1)]
    fan.append(stage("join", "true", needs=[f"s{i}" for i in range(1, count - 1)]))
    return {
        "pipelines": [
            {"id": "startup", "title": "startup", "stages": [stage("one", "true")]},
            {
                "id": "sequential",
                "title": "sequential",
                "stages": [stage(f"s{i}", "true") for i in range(count)],
            },
            {"id": "graph", "title": "graph", "stages": fan},
            {
                "id": "diamond-seq",
                "title": "diamond",
                "stages": [stage(n, "sleep 1") for n in "abcd"],
            },
            {
                "id": "diamond",
                "title": "diamond",
                "stages": [
                    stage("a", "sleep 1"),
                    stage("b", "sleep 1", needs=["a"]),
                    stage("c", "sleep 1", needs=["a"]),
                    stage("d", "sleep 1", needs=["b", "c"]),
                ],
            },
        ]
    }


def run(project: Path, pipeline: str, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", "start", pipeline, "--format", "json", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    document = json.loads(result.stdout)
    if result.returncode != 0 or document["status"] != "succeeded":
        raise SystemExit(f"{pipeline} did not succeed: {result.stderr[-2000:]}")
    return wall


def summary(samples: list[float], unit: str = "s", scale: float = 1.0) -> str:
    values = [v * scale for v in samples]
    return f"{statistics.median(values):.3f} {unit} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stages", type=int, default=200)
    options = parser.parse_args()
    samples: dict[str, list[float]] = {
        k: [] for k in ("startup", "sequential", "graph", "diamond-seq", "diamond")
    }
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as temp:
        project = Path(temp)
        (project / "codex.orchestrator.json").write_text(json.dumps(config(options.stages)))
        run(project, "startup")  # warm-up
        for round_number in range(options.repeat):
            print(f"round {round_number + 1}/{options.repeat}", file=sys.stderr)
            samples["startup"].append(run(project, "startup"))
            samples["sequential"].append(run(project, "sequential"))
            samples["graph"].append(run(project, "graph", "--jobs", "2"))
            samples["diamond-seq"].append(run(project, "diamond-seq"))
            samples["diamond"].append(run(project, "diamond", "--jobs", "2"))
    startup = statistics.median(samples["startup"])
    count = options.stages
    per_stage = {
        name: [(wall - startup) / (count - 1) for wall in samples[name]]
        for name in ("sequential", "graph")
    }
    load = os.getloadavg()[0]
    print(
        f"graph runs, {count} stages, {options.repeat} rounds, load {load:.2f}, "
        f"{os.cpu_count()} CPUs; median (min-max)\n"
    )
    print("| scenario | figure | sequential (no needs) | graph --jobs 2 | graph/sequential |")
    print("| --- | --- | --- | --- | --- |")
    ratio = statistics.median(samples["graph"]) / statistics.median(samples["sequential"])
    print(
        f"| {count} stages of true | wall | {summary(samples['sequential'])} | "
        f"{summary(samples['graph'])} | {ratio:.2f}x |"
    )
    overhead = statistics.median(per_stage["graph"]) / statistics.median(per_stage["sequential"])
    print(
        f"| {count} stages of true | per-stage overhead | "
        f"{summary(per_stage['sequential'], 'ms', 1000)} | "
        f"{summary(per_stage['graph'], 'ms', 1000)} | {overhead:.2f}x |"
    )
    diamond = statistics.median(samples["diamond"]) / statistics.median(samples["diamond-seq"])
    print(
        f"| diamond of 4 x sleep 1 | wall | {summary(samples['diamond-seq'])} | "
        f"{summary(samples['diamond'])} | {diamond:.2f}x |"
    )
    print(f"| 1 stage | start-up wall | {summary(samples['startup'])} | | |")


if __name__ == "__main__":
    main()
