"""The Dask executor against the local one, on the same pipelines, in one run.

Starts a local Dask cluster of 2 worker processes (8 threads each) in this process,
then times ``codex-orchestrator start ... --jobs 16`` on each pipeline with the local
executor and with ``--scheduler`` pointing at the cluster, alternating (local, dask,
local, dask ...) after one warm-up round, and prints a markdown table:

- ``stages-1``: one ``true`` stage: what the cluster adds once per run (importing
  ``distributed``, connecting, the shared-filesystem probe) = dask wall - local wall.
- ``stages-200``: 200 ``true`` stages one after another; per-stage overhead of the
  cluster = (dask wall - local wall - the once-per-run cost) / 200.
- ``parallel-16``: a ``true`` stage, then 16 ``sleep 1`` stages that need only it.
- per-stage gap, from the manifests of those two: each stage's span as the runner
  records it (``started_at`` to ``completed_at``) minus its command's ``duration_ms``
  (measured where it ran): what running a stage costs beyond its command, per stage,
  with no start-up in it. The ``sleep 1`` stages print the time before and after, which
  splits their gap into its start (``started_at`` to the first line) and end (the last
  line to ``completed_at``).
- ``baseline``: a bare Dask task round trip (submit a no-op, wait for its result) on
  the same cluster: the part of the overhead that is Dask's own.
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
PIPELINES = ("stages-1", "stages-200", "parallel-16")
WALL_KEYS = (
    ("stages-1", "local"),
    ("stages-1", "dask"),
    ("stages-200", "local"),
    ("stages-200", "dask"),
)


def _config(stages: list[dict[str, Any]], pipeline_id: str) -> dict[str, Any]:
    return {"pipelines": [{"id": pipeline_id, "title": pipeline_id, "stages": stages}]}


def _command(stage_id: str, shell: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "command", "id": stage_id, "title": stage_id, "command": shell, **extra}


def write_project(root: Path) -> None:
    """One project holding the four pipelines."""
    stamped = "date +%s.%N; sleep 1; date +%s.%N"
    sleepers = [_command(f"p{i:02d}", stamped, needs=["go"]) for i in range(PARALLEL)]
    pipelines = [
        _config([_command("s000", "true")], "stages-1"),
        _config([_command(f"s{i:03d}", "true") for i in range(STAGES)], "stages-200"),
        _config([_command("go", "true"), *sleepers], "parallel-16"),
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


def bare_roundtrip(address: str, count: int = 50) -> float:
    """Seconds per bare Dask task (submit a no-op, wait for its result): Dask's own cost."""
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.submit(int, pure=False).result()
        return (time.perf_counter() - started) / count


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


def stage_gaps(root: Path, document: dict[str, Any]) -> list[float]:
    """Per stage: seconds from ``started_at`` to ``completed_at`` beyond ``duration_ms``."""
    manifest = orjson.loads((root / document["manifest"]).read_bytes())
    gaps = []
    for record in manifest["commands"]:
        started = datetime.fromisoformat(record["started_at"]).timestamp()
        completed = datetime.fromisoformat(record["completed_at"]).timestamp()
        gaps.append(completed - started - record["duration_ms"] / 1000)
    return gaps


def edge_lags(root: Path, document: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Per stage printing two timestamps: ``started_at`` to its first, its last to
    ``completed_at`` (seconds): the runner's view of a stage's start and end."""
    manifest = orjson.loads((root / document["manifest"]).read_bytes())
    heads, tails = [], []
    for record in manifest["commands"]:
        printed = [
            float(event["data"])
            for event in map(orjson.loads, (root / record["log_path"]).read_bytes().splitlines())
            if event.get("type") == "command:stdout"
        ]
        if len(printed) == 2:
            heads.append(printed[0] - datetime.fromisoformat(record["started_at"]).timestamp())
            tails.append(datetime.fromisoformat(record["completed_at"]).timestamp() - printed[1])
    return heads, tails


def cell(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    """``median (min-max)`` of ``values`` times ``scale``."""
    med = statistics.median(values) * scale
    return f"{med:.3f} {unit} ({min(values) * scale:.3f}-{max(values) * scale:.3f})"


def main() -> None:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from dask import config as dask_config
    from distributed import LocalCluster

    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="co-bench-dask-") as tmp,
        # Scratch space in the temp dir too, not the shared $TMPDIR/dask-scratch-space.
        dask_config.set({"temporary-directory": tmp}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=8,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=40,
            local_directory=tmp,
        ) as cluster,
    ):
        root = Path(tmp)
        write_project(root)
        dask = ["--scheduler", cluster.scheduler_address]
        walls: dict[tuple[str, str], list[float]] = {}
        gaps: dict[tuple[str, str], list[float]] = {}
        lags: list[float] = []
        bare: list[float] = []
        for round_no in range(args.repeat + 1):
            for name, extra in (("local", []), ("dask", dask)):
                for pipeline in PIPELINES:
                    wall, document = run_once(root, pipeline, [*extra, "--jobs", str(PARALLEL)])
                    if round_no:
                        walls.setdefault((pipeline, name), []).append(wall)
                        gaps.setdefault((pipeline, name), []).extend(stage_gaps(root, document))
                        heads, tails = edge_lags(root, document)
                        gaps.setdefault((f"{pipeline} start", name), []).extend(heads)
                        gaps.setdefault((f"{pipeline} end", name), []).extend(tails)
            _, document = run_once(root, "live-delay", dask)
            roundtrip = bare_roundtrip(cluster.scheduler_address)
            if round_no:
                lags += delays(root, document)
                bare.append(roundtrip)
            print(f"round {round_no}/{args.repeat} done", file=sys.stderr)
    report(load, walls, gaps, bare, lags)


def report(
    load: float,
    walls: dict[tuple[str, str], list[float]],
    gaps: dict[tuple[str, str], list[float]],
    bare: list[float],
    lags: list[float],
) -> None:
    """Print the markdown table."""
    print(f"Dask executor vs local; 2-worker local cluster; load average {load:.2f} at start")
    print()
    print("| scenario | figure | local | dask |")
    print("| --- | --- | --- | --- |")
    for pipeline in PIPELINES:
        print(
            f"| `{pipeline}` | wall | {cell(walls[pipeline, 'local'])} "
            f"| {cell(walls[pipeline, 'dask'])} |"
        )
    rounds = list(zip(*(walls[key] for key in WALL_KEYS), strict=True))
    once = [dask_1 - local_1 for local_1, dask_1, _, _ in rounds]
    print(f"| `stages-1` | once per run: dask wall - local wall | — | {cell(once)} |")
    per_stage = [(d - loc - (d1 - l1)) / STAGES for l1, d1, loc, d in rounds]
    print(
        "| `stages-200` | per-stage overhead: (dask - local - once per run) / 200 "
        f"| — | {cell(per_stage, 1000, 'ms')} |"
    )
    for pipeline in ("stages-200", "parallel-16"):
        print(
            f"| `{pipeline}` | per-stage gap: span in the manifest - duration_ms "
            f"| {cell(gaps[pipeline, 'local'], 1000, 'ms')} "
            f"| {cell(gaps[pipeline, 'dask'], 1000, 'ms')} |"
        )
    for edge, meaning in (("start", "submitted -> first line"), ("end", "last line -> ended")):
        print(
            f"| `parallel-16` | {meaning} (runner's timestamps, printed ones) "
            f"| {cell(gaps[f'parallel-16 {edge}', 'local'], 1000, 'ms')} "
            f"| {cell(gaps[f'parallel-16 {edge}', 'dask'], 1000, 'ms')} |"
        )
    baseline = cell(bare, 1000, "ms")
    print(f"| baseline | a bare Dask task (submit a no-op, get its result) | — | {baseline} |")
    lags.sort()
    p95 = lags[int(len(lags) * 0.95) - 1]
    print(
        f"| `live-delay` | line printed on a worker -> event in runner.ndjson "
        f"({len(lags)} lines) | — | median {statistics.median(lags) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
