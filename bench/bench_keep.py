"""The cost of keeping artifacts: a stage writing many small files, and one big file.

For each scenario, in the same run and alternating, it measures:

- ``run``: ``codex-orchestrator start`` of a one-stage pipeline whose stage writes the
  tree into ``$CODEX_ORCHESTRATOR_WORKSPACE`` (the tree is then kept: hashed, linked
  into the object store, made read-only, indexed);
- ``write``: the same stage command alone, writing the same tree into a plain directory;
- ``cp -r``: a plain ``cp -r`` of that tree (the baseline the cost is compared with);
- ``empty``: ``start`` of a pipeline whose stage does nothing (the runner's own cost).

The cost of keeping is ``run - write - empty``. Peak RSS is the runner's (``wait4``).

    python bench/bench_keep.py                       # 10,000 small files and a 1 GiB file
    python bench/bench_keep.py --big-size 64M --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL_WRITER = r"""
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    folder = os.path.join(root, f"d{i // 100:03d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i:05d}.txt"), "w") as out:
        out.write(f"file {i}\n" * 8)
"""
BIG_WRITER = r"""
import os, sys
path, size = sys.argv[1], int(sys.argv[2])
block = os.urandom(1 << 20)
with open(os.path.join(path, "big.bin"), "wb") as out:
    left = size
    while left > 0:
        out.write(block[: min(left, len(block))])
        left -= len(block)
"""


def parse_size(text: str) -> int:
    """``1G``, ``64M``, ``512K`` or bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B").rstrip("I")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, the process and its reaped children)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss * 1024


def project(root: Path, command: str) -> Path:
    """A project with pipelines ``keep`` (the writer) and ``empty``."""
    root.mkdir(parents=True)
    stage = {"kind": "command", "id": "make", "title": "make", "command": command}
    noop = {"kind": "command", "id": "make", "title": "make", "command": "true"}
    config = {
        "pipelines": [
            {"id": "keep", "title": "keep", "stages": [stage]},
            {"id": "empty", "title": "empty", "stages": [noop]},
        ]
    }
    (root / "codex.orchestrator.json").write_text(json.dumps(config))
    return root


def du_bytes(path: Path) -> int:
    """Disk usage as ``du`` counts it (hard links once)."""
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) * 1024


def scenario(name: str, writer: str, arg: str, repeat: int, work: Path) -> dict[str, object]:
    """Measure one scenario ``repeat`` times; medians."""
    script = work / f"{name}.py"
    script.write_text(writer)
    env = dict(os.environ)
    cli = [sys.executable, "-m", "codex_orchestrator", "start"]
    command = f'{sys.executable} {script} "$CODEX_ORCHESTRATOR_WORKSPACE" {arg}'
    samples: dict[str, list[float]] = {"run": [], "write": [], "cp": [], "empty": [], "rss": []}
    usage = 0
    for attempt in range(repeat):
        proj = project(work / f"{name}-{attempt}", command)
        wall, rss = timed([*cli, "keep"], proj, env)
        samples["run"].append(wall)
        samples["rss"].append(rss)
        usage = du_bytes(proj / ".runs")
        samples["empty"].append(timed([*cli, "empty"], proj, env)[0])
        plain = work / f"{name}-plain-{attempt}"
        plain.mkdir()
        samples["write"].append(timed([sys.executable, str(script), str(plain), arg], work, env)[0])
        samples["cp"].append(timed(["cp", "-r", str(plain), str(plain) + "-copy"], work, env)[0])
        tree = du_bytes(plain)
        shutil.rmtree(proj)
        shutil.rmtree(plain)
        shutil.rmtree(str(plain) + "-copy")
    median = {key: statistics.median(values) for key, values in samples.items()}
    keep = max(0.0, median["run"] - median["write"] - median["empty"])
    return {
        "scenario": name,
        "run_s": median["run"],
        "write_s": median["write"],
        "empty_run_s": median["empty"],
        "keep_s": keep,
        "cp_r_s": median["cp"],
        "keep_vs_cp": keep / median["cp"] if median["cp"] else None,
        "peak_rss_mb": median["rss"] / 1e6,
        "runs_du_mb": usage / 1e6,
        "tree_du_mb": tree / 1e6,
    }


def main() -> int:
    """Run both scenarios; print a markdown table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-files", type=int, default=10_000, help="files in scenario 1")
    parser.add_argument("--big-size", default="1G", help="size of the file in scenario 2 (1G)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    big = parse_size(args.big_size)
    with tempfile.TemporaryDirectory(prefix="bench-keep-") as temp:
        work = Path(temp)
        rows = [
            scenario(
                f"small-{args.small_files}", SMALL_WRITER, str(args.small_files), args.repeat, work
            ),
            scenario(f"big-{args.big_size}", BIG_WRITER, str(big), args.repeat, work),
        ]
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, median of {args.repeat}")
    print(
        "| scenario | run | write alone | empty run | keeping | cp -r | keeping / cp -r "
        "| runner peak RSS | .runs du | tree du |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        ratio = row["keep_vs_cp"]
        print(
            f"| {row['scenario']} | {row['run_s']:.2f} s | {row['write_s']:.2f} s | "
            f"{row['empty_run_s']:.2f} s | {row['keep_s']:.2f} s | {row['cp_r_s']:.2f} s | "
            f"{ratio:.2f}x | {row['peak_rss_mb']:.1f} MB | {row['runs_du_mb']:.1f} MB | "
            f"{row['tree_du_mb']:.1f} MB |"
            if isinstance(ratio, float)
            else f"| {row['scenario']} | {row['run_s']:.2f} s | - |"
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
