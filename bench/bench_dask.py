"""The Dask executor against the local one, on the same pipelines, in one run.

Starts a local Dask cluster of 2 worker processes in this process, then times
``codex-orchestrator start`` on each pipeline with the local executor and with
``--scheduler`` pointing at the cluster, alternating (local, dask, local, dask ...)
after one warm-up round, and prints a markdown table:

- ``stages-200``: 200 ``true`` stages one after another; per-stage overhead of the
  cluster = (dask wall - local wall) / 200.
- ``parallel-16``: 16 ``sleep 1`` commands at once, each on a thread of its own calling
  the executor as the stage loop does (the workers have 8 threads each); wall time
  against the 1 s ideal.
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
import threading
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


def parallel(executor: Any, root: Path) -> float:
    """Wall seconds for PARALLEL ``sleep 1`` commands run at once through ``executor``."""
    from codex_orchestrator.engine.executor import CommandRequest
    from codex_orchestrator.engine.signals import CancelWatch

    class Discard:
        def write(self, stream: str, data: bytes) -> None:
            del stream, data

    env = {**os.environ, "CODEX_ORCHESTRATOR_RUN_DIR": str(root)}
    outcomes: list[Any] = []
    with CancelWatch() as cancel:

        def one(index: int) -> None:
            request = CommandRequest(
                argv=("/bin/sh", "-c", "sleep 1"), cwd=root, env=env, index=index
            )
            outcomes.append(executor.run(request, Discard(), cancel))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(PARALLEL)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    if [o.exit_code for o in outcomes] != [0] * PARALLEL:
        raise SystemExit(f"parallel-16: a command failed: {outcomes}")
    return wall


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

    from codex_orchestrator.engine.process import LocalExecutor
    from codex_orchestrator.executors.dask import DaskExecutor
    from codex_orchestrator.executors.dask_cluster import DaskSettings

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
        bare: list[float] = []
        dask_executor = DaskExecutor.open(DaskSettings(scheduler=cluster.scheduler_address))
        executors: dict[str, Any] = {"local": LocalExecutor(), "dask": dask_executor}
        for round_no in range(args.repeat + 1):
            for name, extra in (("local", []), ("dask", dask)):
                wall, _ = run_once(root, "stages-200", extra)
                wall_parallel = parallel(executors[name], root)
                if round_no:
                    walls.setdefault(("stages-200", name), []).append(wall)
                    walls.setdefault(("parallel-16", name), []).append(wall_parallel)
            _, document = run_once(root, "live-delay", dask)
            roundtrip = bare_roundtrip(cluster.scheduler_address)
            if round_no:
                lags += delays(root, document)
                bare.append(roundtrip)
            print(f"round {round_no}/{args.repeat} done", file=sys.stderr)
        dask_executor.close()
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
    overhead = cell(per_stage, 1000, "ms")
    print(f"| `stages-200` | per-stage overhead of the cluster | — | {overhead} |")
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
