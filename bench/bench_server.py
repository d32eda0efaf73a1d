"""Load on ``serve`` during a live run: poll latency, and how much the run slows.

200 clients (``--clients``) on loopback each poll ``GET /runs/{id}`` of a live run, one
request at a time on a kept-alive connection, pausing ``--interval`` seconds between
requests, for as long as the run lasts (about ``--duration`` seconds: the run's work is
calibrated to that). It prints p50/p99 latency and the run's wall time under load
against the same run without load, alternating unloaded and loaded runs in the same
invocation, and the CPU seconds the run, the server and the clients used.

The clients stand in for browsers and tools on other machines, so the load generator
runs in its own process at ``--client-nice`` (default 10): its CPU, which on loopback
is about what the server's is, is not charged to the server. The server and the run
are never reniced. The achieved request rate is printed and checked, so a starved load
generator cannot make the server look cheap; ``--client-nice 0`` shares the CPU evenly.

    python bench/bench_server.py                      # 200 clients, 30 s, 1 poll/s each
    python bench/bench_server.py --client-nice 0      # clients compete with the run
    python bench/bench_server.py --duration 10 --interval 0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import psutil

CLI = [sys.executable, "-m", "codex_orchestrator"]
STAGES = 6
# One stage: a busy loop printing a line per step, like a test runner would.
STAGE_COMMAND = (
    'python3 -c "import sys\nfor i in range({steps}):\n'
    "    sum(range(20000))\n    print('step', i, flush=(i % 50 == 0))\""
)
# Below this share of the nominal request rate, the load was not what was asked.
MIN_RATE_SHARE = 0.9


@dataclass
class Latencies:
    """What the clients saw, and the CPU the server and the clients used meanwhile."""

    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    load_seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def add(self, other: Latencies) -> None:
        """Fold another round's figures into these."""
        self.seconds += other.seconds
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.load_seconds += other.load_seconds
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu


@dataclass(frozen=True)
class Timed:
    """One run: wall seconds, and CPU seconds of the runner and its stages."""

    wall: float
    cpu: float


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


def children_cpu() -> float:
    """CPU seconds of this process's waited-for descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_run(project: Path) -> subprocess.Popen[bytes]:
    """``start work`` in the background."""
    return subprocess.Popen(
        [*CLI, "start", "work", "--format", "json"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def timed_run(project: Path) -> Timed:
    """One ``start work`` without load (it must succeed)."""
    cpu, begin = children_cpu(), time.perf_counter()
    if start_run(project).wait() != 0:
        raise SystemExit("an unloaded run failed")
    return Timed(wall=time.perf_counter() - begin, cpu=children_cpu() - cpu)


def calibrate(project: Path, duration: float) -> int:
    """Steps per stage so that a run lasts about ``duration`` seconds without load."""
    probe = 2000
    write_project(project, probe)
    took = timed_run(project).wall
    return max(probe, int(probe * duration / took))


async def client(
    host: str, port: int, path: str, interval: float, stop: Event, out: Latencies
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


async def load(url: str, path: str, clients: int, interval: float, stop: Event) -> Latencies:
    """Poll with ``clients`` connections until ``stop`` is set."""
    match = re.match(r"http://([^:/]+):(\d+)", url)
    if match is None:
        raise SystemExit(f"cannot parse {url}")
    host, port = match.group(1), int(match.group(2))
    out = Latencies()
    begin = time.perf_counter()
    tasks = []
    for n in range(clients):
        tasks.append(asyncio.create_task(client(host, port, path, interval, stop, out)))
        if n % 20 == 19:
            await asyncio.sleep(0.01)  # open connections in small bursts
    while not stop.is_set():
        await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    out.load_seconds = time.perf_counter() - begin
    return out


def load_process(
    url: str, path: str, clients: int, interval: float, nice: int, stop: Event, out: Connection
) -> None:
    """The load generator's own process (niced): poll, then send back what it saw."""
    os.nice(nice)
    seen = asyncio.run(load(url, path, clients, interval, stop))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    seen.client_cpu = usage.ru_utime + usage.ru_stime
    out.send(seen)
    out.close()


def wait_for_new_run(cli_dir: Path, before: set[str]) -> str:
    """The id of the run that appears in ``cli_dir``, once its manifest is there."""
    while True:
        fresh = set(os.listdir(cli_dir)) - before if cli_dir.is_dir() else set()
        run_id = next(iter(fresh), None)
        if run_id is not None and (cli_dir / run_id / "manifest.json").is_file():
            return run_id
        time.sleep(0.01)


def loaded_run(project: Path, clients: int, interval: float, nice: int) -> tuple[Timed, Latencies]:
    """One run while ``clients`` poll its status, and what they saw."""
    server = subprocess.Popen([*CLI, "serve", "--port", "0"], cwd=project, stderr=subprocess.PIPE)
    try:
        first_line = server.stderr.readline().decode() if server.stderr else ""
        match = re.search(r"on (http://\S+)/ ", first_line)
        if match is None:
            raise SystemExit(f"serve did not start: {first_line}")
        cli_dir = project / ".runs" / "0101" / "cli"
        before = set(os.listdir(cli_dir)) if cli_dir.is_dir() else set()
        cpu, begin = children_cpu(), time.perf_counter()
        runner = start_run(project)
        run_id = wait_for_new_run(cli_dir, before)
        server_cpu = psutil.Process(server.pid).cpu_times()
        stop = multiprocessing.Event()
        receive, send = multiprocessing.Pipe(duplex=False)
        args = (match.group(1), f"/runs/{run_id}", clients, interval, nice, stop, send)
        generator = multiprocessing.Process(target=load_process, args=args)
        generator.start()
        returncode = runner.wait()
        timed = Timed(wall=time.perf_counter() - begin, cpu=children_cpu() - cpu)
        stop.set()
        seen: Latencies = receive.recv()
        generator.join()
        server_after = psutil.Process(server.pid).cpu_times()
        seen.server_cpu = (server_after.user + server_after.system) - (
            server_cpu.user + server_cpu.system
        )
        if returncode != 0:
            raise SystemExit("the loaded run failed")
        return timed, seen
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def paired_slowdown(quiet: list[Timed], loaded: list[Timed]) -> float:
    """Median over loaded runs of their wall time against the unloaded runs beside them."""
    ratios = [
        run.wall / statistics.mean([quiet[n].wall, quiet[n + 1].wall]) - 1
        for n, run in enumerate(loaded)
    ]
    return statistics.median(ratios)


def main() -> int:
    """Calibrate; alternate runs without and with load; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--interval", type=float, default=1.0, help="pause between polls")
    parser.add_argument(
        "--rounds", type=int, default=3, help="loaded runs, each between two unloaded ones"
    )
    parser.add_argument(
        "--client-nice", type=int, default=10, help="niceness of the load generator (0: none)"
    )
    args = parser.parse_args()
    quiet: list[Timed] = []
    loaded: list[Timed] = []
    seen = Latencies()
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp)
        steps = calibrate(project, args.duration)
        write_project(project, steps)
        print(f"load average {os.getloadavg()[0]:.2f}; {STAGES} stages x {steps} steps")
        quiet.append(timed_run(project))
        for _ in range(args.rounds):
            took, round_seen = loaded_run(project, args.clients, args.interval, args.client_nice)
            loaded.append(took)
            seen.add(round_seen)
            quiet.append(timed_run(project))
    report(args, quiet, loaded, seen)
    return 0 if verdict(args, quiet, loaded, seen)[0] else 1


def verdict(
    args: argparse.Namespace, quiet: list[Timed], loaded: list[Timed], seen: Latencies
) -> tuple[bool, float, float]:
    """Whether the target is met: the larger of the two slowdown figures, and the rate."""
    baseline = statistics.median(t.wall for t in quiet)
    medians = statistics.median(t.wall for t in loaded) / baseline - 1
    slowdown = max(medians, paired_slowdown(quiet, loaded))
    rate = len(seen.seconds) / seen.load_seconds if seen.load_seconds else 0.0
    nominal = args.clients / args.interval if args.interval else rate
    ok = slowdown < 0.10 and seen.errors == 0 and rate >= MIN_RATE_SHARE * nominal
    return ok, slowdown, rate


def report(
    args: argparse.Namespace, quiet: list[Timed], loaded: list[Timed], seen: Latencies
) -> None:
    """Print the figures, one per line."""
    ok, slowdown, rate = verdict(args, quiet, loaded, seen)
    lat = seen.seconds
    nice = f"nice {args.client_nice}" if args.client_nice else "not niced"
    print(f"clients                {args.clients} (pause {args.interval} s between polls; {nice})")
    print(f"requests               {len(lat)} ({rate:.0f}/s), errors {seen.errors}")
    print(f"statuses               {dict(sorted(seen.statuses.items()))}")
    if lat:
        p50, p99 = percentile(lat, 0.50) * 1000, percentile(lat, 0.99) * 1000
        worst = max(lat) * 1000
        print(f"latency                p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
        per_request = seen.server_cpu / len(lat) * 1e6
        print(
            f"cpu under load         server {seen.server_cpu:.1f} s ({per_request:.0f} us a "
            f"request), clients {seen.client_cpu:.1f} s, over {seen.load_seconds:.0f} s"
        )
    for name, runs in (("without load", quiet), ("under load", loaded)):
        walls = ", ".join(f"{t.wall:.2f}" for t in runs)
        wall = statistics.median(t.wall for t in runs)
        cpu = statistics.median(t.cpu for t in runs)
        print(f"run {name:<18} {walls} s (median {wall:.2f} s; run cpu {cpu:.2f} s)")
    medians = statistics.median(t.wall for t in loaded) / statistics.median(t.wall for t in quiet)
    print(
        f"slowdown               {slowdown * 100:+.1f} % (medians {(medians - 1) * 100:+.1f} %, "
        f"paired {paired_slowdown(quiet, loaded) * 100:+.1f} %; target < 10 %): "
        f"{'PASS' if ok else 'FAIL'}"
    )
    print(f"load average           {os.getloadavg()[0]:.2f} (other work on the machine adds noise)")


if __name__ == "__main__":
    sys.exit(main())
