"""Load on ``serve`` during a live run: poll latency, and how much the run slows.

200 clients (``--clients``) on loopback each poll ``GET /runs/{id}`` of a live run, one
request at a time on a kept-alive connection, pausing ``--interval`` seconds between
requests, for as long as the run lasts (about ``--duration`` seconds: the run's work is
calibrated to that). It prints p50/p99 latency and the run's wall time under load
against the same run without load, measured before and after in the same invocation.

    python bench/bench_server.py                      # 200 clients, 30 s, 1 poll/s each
    python bench/bench_server.py --duration 10 --interval 0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

CLI = [sys.executable, "-m", "codex_orchestrator"]
STAGES = 6
# One stage: a busy loop printing a line per step, like a test runner would.
STAGE_COMMAND = (
    'python3 -c "import sys\nfor i in range({steps}):\n'
    "    sum(range(20000))\n    print('step', i, flush=(i % 50 == 0))\""
)


@dataclass
class Latencies:
    """What the clients saw, and the CPU the server and the clients used meanwhile."""

    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float = 0.0
    client_cpu: float = 0.0


def write_project(project: Path, steps: int) -> None:
    """A pipeline of STAGES busy stages of ``steps`` steps each."""
    stages = [
        {
            "kind": "command",
            "id": f"work-{n}",
            "title": f"work {n}",
            "command": STAGE_COMMAND.format(steps=steps),
        }
        for n in range(1, STAGES + 1)
    ]
    config = {"pipelines": [{"id": "work", "title": "work", "stages": stages}]}
    (project / "codex.orchestrator.json").write_text(json.dumps(config))


def timed_run(project: Path) -> float:
    """Wall seconds of one ``start work`` (it must succeed)."""
    begin = time.perf_counter()
    subprocess.run(
        [*CLI, "start", "work", "--format", "json"],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - begin


def calibrate(project: Path, duration: float) -> int:
    """Steps per stage so that a run lasts about ``duration`` seconds without load."""
    probe = 2000
    write_project(project, probe)
    took = timed_run(project)
    return max(probe, int(probe * duration / took))


async def client(
    host: str, port: int, path: str, interval: float, stop: asyncio.Event, out: Latencies
) -> None:
    """One kept-alive connection polling ``path`` until ``stop`` is set."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not stop.is_set():
            begin = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            match = re.search(rb"(?i)content-length: *(\d+)", head)
            if match is None:
                out.errors += 1
                return
            await reader.readexactly(int(match.group(1)))
            out.seconds.append(time.perf_counter() - begin)
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if interval:
                await asyncio.sleep(interval)
    except (OSError, asyncio.IncompleteReadError):
        out.errors += 1
    finally:
        writer.close()


async def load(
    url: str, path: str, clients: int, interval: float, runner: subprocess.Popen[bytes]
) -> Latencies:
    """Poll with ``clients`` connections while ``runner`` lives."""
    match = re.match(r"http://([^:/]+):(\d+)", url)
    if match is None:
        raise SystemExit(f"cannot parse {url}")
    host, port = match.group(1), int(match.group(2))
    out = Latencies()
    stop = asyncio.Event()
    tasks = []
    for n in range(clients):
        tasks.append(asyncio.create_task(client(host, port, path, interval, stop, out)))
        if n % 20 == 19:
            await asyncio.sleep(0.01)  # open connections in small bursts
    while runner.poll() is None:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    return out


def loaded_run(project: Path, clients: int, interval: float) -> tuple[float, Latencies]:
    """Wall seconds of one run while ``clients`` poll its status, and what they saw."""
    server = subprocess.Popen([*CLI, "serve", "--port", "0"], cwd=project, stderr=subprocess.PIPE)
    try:
        first_line = server.stderr.readline().decode() if server.stderr else ""
        match = re.search(r"on (http://\S+)/ ", first_line)
        if match is None:
            raise SystemExit(f"serve did not start: {first_line}")
        url = match.group(1)
        cli_dir = project / ".runs" / "0101" / "cli"
        before = set(os.listdir(cli_dir)) if cli_dir.is_dir() else set()
        begin = time.perf_counter()
        runner = subprocess.Popen(
            [*CLI, "start", "work", "--format", "json"],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        run_id = None
        while run_id is None or not (cli_dir / run_id / "manifest.json").is_file():
            fresh = set(os.listdir(cli_dir)) - before if cli_dir.is_dir() else set()
            run_id = next(iter(fresh), None)
            time.sleep(0.01)
        server_cpu = psutil.Process(server.pid).cpu_times()
        client_cpu = resource.getrusage(resource.RUSAGE_SELF)
        seen = asyncio.run(load(url, f"/runs/{run_id}", clients, interval, runner))
        runner.wait()
        server_after = psutil.Process(server.pid).cpu_times()
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        seen.server_cpu = (server_after.user + server_after.system) - (
            server_cpu.user + server_cpu.system
        )
        seen.client_cpu = (client_after.ru_utime + client_after.ru_stime) - (
            client_cpu.ru_utime + client_cpu.ru_stime
        )
        took = time.perf_counter() - begin
        if runner.returncode != 0:
            raise SystemExit("the loaded run failed")
        return took, seen
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    """Calibrate; alternate runs without and with load; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--interval", type=float, default=1.0, help="pause between polls")
    parser.add_argument(
        "--rounds", type=int, default=2, help="loaded runs, each between two unloaded ones"
    )
    args = parser.parse_args()
    quiet: list[float] = []
    loaded: list[float] = []
    seen = Latencies()
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp)
        steps = calibrate(project, args.duration)
        write_project(project, steps)
        print(f"load average {os.getloadavg()[0]:.2f}; {STAGES} stages x {steps} steps")
        quiet.append(timed_run(project))
        for _ in range(args.rounds):
            took, round_seen = loaded_run(project, args.clients, args.interval)
            loaded.append(took)
            seen.seconds += round_seen.seconds
            seen.errors += round_seen.errors
            for status, count in round_seen.statuses.items():
                seen.statuses[status] = seen.statuses.get(status, 0) + count
            seen.server_cpu += round_seen.server_cpu
            seen.client_cpu += round_seen.client_cpu
            quiet.append(timed_run(project))
    baseline, under = statistics.median(quiet), statistics.median(loaded)
    slowdown = (under - baseline) / baseline
    lat = seen.seconds
    print(f"clients                {args.clients} (pause {args.interval} s between polls)")
    print(
        f"requests               {len(lat)} ({len(lat) / sum(loaded):.0f}/s), errors {seen.errors}"
    )
    print(f"statuses               {dict(sorted(seen.statuses.items()))}")
    if lat:
        p50, p99 = percentile(lat, 0.50) * 1000, percentile(lat, 0.99) * 1000
        worst = max(lat) * 1000
        print(f"latency                p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
    print(f"cpu under load         server {seen.server_cpu:.1f} s, clients {seen.client_cpu:.1f} s")
    print(
        f"run without load       {', '.join(f'{t:.2f}' for t in quiet)} s (median {baseline:.2f})"
    )
    print(f"run under load         {', '.join(f'{t:.2f}' for t in loaded)} s (median {under:.2f})")
    verdict = "PASS" if slowdown < 0.10 and seen.errors == 0 else "FAIL"
    print(f"slowdown               {slowdown * 100:+.1f} % (target < 10 %): {verdict}")
    print(f"load average           {os.getloadavg()[0]:.2f} (other work on the machine adds noise)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
