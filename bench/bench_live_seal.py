"""Live and sealed artifacts: sealing memory and speed, watch coalescing and latency.

Sealing: a sparse file of ``--size-mb`` MiB (default 1024) is sealed by our
``seal_tree`` in a fresh process, and encrypted by the standard ``age`` CLI as the
baseline, in the same run; each reports peak RSS (VmHWM) and wall time. Ours also
verifies the sealed copy (reads it back and decrypts it), so it reads the data twice.

Watching: a watcher over a temp workspace counts the events for a file rewritten 100
times as fast as Python can (well under 200 ms) and times a single change from the
write to its event, ``--repeat`` times.

    python bench/bench_live_seal.py [--size-mb 1024] [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SEAL_SCRIPT = """
import sys
from pathlib import Path
from codex_orchestrator.artifacts.recipients import load_recipients
from codex_orchestrator.artifacts.seal import seal_tree
report = seal_tree(Path(sys.argv[1]), load_recipients([sys.argv[2]], None, where="bench"))
assert report.ok, report.failed
"""


def _peak_and_wall(argv: list[str]) -> tuple[int, float]:
    """Run ``argv`` under ``/usr/bin/time -v``: its peak RSS (KiB) and wall seconds."""
    started = time.monotonic()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *argv], capture_output=True, text=True, check=True
    )
    wall = time.monotonic() - started
    line = next(x for x in done.stderr.splitlines() if "Maximum resident set size" in x)
    return int(line.split(":")[1]), wall


def bench_seal(size_mb: int) -> None:
    """Print peak RSS and throughput of sealing vs the age CLI."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        identity = base / "key.txt"
        subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
        recipient = subprocess.run(
            ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
        ).stdout.strip()
        tree = base / "tree"
        tree.mkdir()
        with (tree / "big.img").open("wb") as sparse:
            sparse.truncate(size_mb * 1024 * 1024)
        age_rss, age_wall = _peak_and_wall(
            ["age", "-r", recipient, "-o", str(base / "baseline.age"), str(tree / "big.img")]
        )
        (base / "baseline.age").unlink()
        ours_rss, ours_wall = _peak_and_wall(
            [sys.executable, "-c", SEAL_SCRIPT, str(tree), recipient]
        )
        print(
            f"| seal {size_mb} MiB | peak RSS | {ours_rss / 1024:.1f} MiB "
            f"| age CLI {age_rss / 1024:.1f} MiB |"
        )
        print(
            f"| seal {size_mb} MiB | throughput | {size_mb / ours_wall:.0f} MiB/s "
            f"(encrypt + verify) | age CLI {size_mb / age_wall:.0f} MiB/s (encrypt only) |"
        )


def _seen(events: list[tuple[float, Any]], path: str) -> bool:
    return any(e.path == path for _, e in events)


def bench_watch(repeat: int) -> None:
    """Print event counts for bursts and the latency of single changes."""
    from codex_orchestrator.artifacts.watch import ChangeEvent, watch_changes

    with tempfile.TemporaryDirectory() as tmp:
        instances = Path(tmp) / "instances"
        workspace = instances / "01-bench" / "workspace"
        workspace.mkdir(parents=True)
        events: list[tuple[float, ChangeEvent]] = []
        arrived = threading.Condition()
        ended = threading.Event()

        def consume() -> None:
            for event in watch_changes(instances, ended.is_set, poll_seconds=0.1):
                with arrived:
                    events.append((time.monotonic(), event))
                    arrived.notify_all()

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        time.sleep(0.5)
        counts, bursts_ms, latencies_ms = [], [], []
        for round_ in range(repeat):
            name = f"burst-{round_}.txt"
            started = time.monotonic()
            for rewrite in range(100):
                (workspace / name).write_text(f"{rewrite}\n" * rewrite)
            bursts_ms.append((time.monotonic() - started) * 1000)
            time.sleep(1.5)
            counts.append(sum(1 for _, e in events if e.path == name))
            single = f"single-{round_}.txt"
            written = time.monotonic()
            (workspace / single).write_text("one change")
            with arrived:
                arrived.wait_for(functools.partial(_seen, events, single), 10)
            seen = next(t for t, e in events if e.path == single)
            latencies_ms.append((seen - written) * 1000)
        ended.set()
        thread.join(10)
        print(
            f"| watch | events for 100 rewrites (burst {max(bursts_ms):.0f} ms at most) | "
            f"{counts} | target 1-2 each, not 100 |"
        )
        print(
            f"| watch | single change to event | median {statistics.median(latencies_ms):.0f} ms, "
            f"max {max(latencies_ms):.0f} ms | target < 1000 ms |"
        )


def main() -> None:
    """Run both benchmarks and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| what | figure | ours | baseline / target |")
    print("| --- | --- | --- | --- |")
    bench_seal(args.size_mb)
    bench_watch(args.repeat)


if __name__ == "__main__":
    main()
