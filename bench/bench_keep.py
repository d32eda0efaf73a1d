"""The cost of keeping artifacts: a stage writing many small files, and one big file.

For each scenario, in the same run, it writes the tree once and measures:

- ``keeping``: the keep step on that tree, as the runner does after a stage (every file
  hashed, linked into the object store, made read-only; the instance's metadata and
  index written), in its own process (interpreter start-up subtracted), with its peak RSS;
- ``cp -r``: a plain ``cp -r`` of the same tree (the baseline);
- ``whole run``: ``codex-orchestrator start`` of a one-stage pipeline whose stage writes
  the tree into ``$CODEX_ORCHESTRATOR_WORKSPACE`` (then keeps, collects and indexes it),
  next to a run whose stage does nothing, and the runner's peak RSS (``wait4``).

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


KEEPER = r"""
import sys
from pathlib import Path
from codex_orchestrator.artifacts.instances import instance_metadata, write_instance
from codex_orchestrator.artifacts.keep import keep_stage
from codex_orchestrator.artifacts.objects import ObjectStore
from codex_orchestrator.model import CommandRecord
from codex_orchestrator.store.layout import InstancePaths
instance = InstancePaths("01-make", Path(sys.argv[1]))
kept = keep_stage(ObjectStore(Path(sys.argv[2])), "01-make", instance.workspace, instance.workspace)
record = CommandRecord(index=1, id="make", title="make", command="bench")
write_instance(instance, instance_metadata(instance, record, kept, None, "bench"), kept)
assert not kept.errors, kept.errors
"""


def scenario(name: str, writer: str, arg: str, repeat: int, work: Path) -> dict[str, object]:
    """Measure one scenario ``repeat`` times; medians."""
    script = work / f"{name}.py"
    script.write_text(writer)
    keeper = work / "keeper.py"
    keeper.write_text(KEEPER)
    env = dict(os.environ)
    cli = [sys.executable, "-m", "codex_orchestrator", "start"]
    command = f'{sys.executable} {script} "$CODEX_ORCHESTRATOR_WORKSPACE" {arg}'
    samples: dict[str, list[float]] = {
        "keep": [],
        "keep_rss": [],
        "cp": [],
        "run": [],
        "run_rss": [],
        "empty": [],
    }
    usage = tree = 0
    for attempt in range(repeat):
        # The same tree, kept by the keep step and copied by cp -r, both from the page cache.
        base = work / f"{name}-{attempt}"
        instance = base / "instances" / "01-make"
        workspace = instance / "workspace"
        workspace.mkdir(parents=True)
        subprocess.run([sys.executable, str(script), str(workspace), arg], check=True)
        tree = du_bytes(workspace)
        copy = work / f"{name}-copy-{attempt}"
        samples["cp"].append(timed(["cp", "-r", str(workspace), str(copy)], work, env)[0])
        shutil.rmtree(copy)
        wall, rss = timed(
            [sys.executable, str(keeper), str(instance), str(base / "objects")], work, env
        )
        samples["keep"].append(wall)
        samples["keep_rss"].append(rss)
        usage = du_bytes(base)
        remove_kept(base)
        # End to end: a run whose stage writes the tree, then keeps and collects it.
        proj = project(work / f"{name}-project-{attempt}", command)
        wall, rss = timed([*cli, "keep"], proj, env)
        samples["run"].append(wall)
        samples["run_rss"].append(rss)
        samples["empty"].append(timed([*cli, "empty"], proj, env)[0])
        remove_kept(proj)
    median = {key: statistics.median(values) for key, values in samples.items()}
    # The keep step runs in its own interpreter: its start-up is not part of keeping.
    startup = timed([sys.executable, "-c", KEEPER.split("instance =", maxsplit=1)[0]], work, env)[0]
    keep = max(0.0, median["keep"] - startup)
    return {
        "scenario": name,
        "keep_s": keep,
        "cp_r_s": median["cp"],
        "keep_vs_cp": keep / median["cp"] if median["cp"] else 0.0,
        "keep_peak_rss_mb": median["keep_rss"] / 1e6,
        "run_s": median["run"],
        "empty_run_s": median["empty"],
        "runner_peak_rss_mb": median["run_rss"] / 1e6,
        "kept_du_mb": usage / 1e6,
        "tree_du_mb": tree / 1e6,
    }


def remove_kept(path: Path) -> None:
    """Remove a tree whose kept files are read-only."""
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=True)
    shutil.rmtree(path)


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
        "| scenario | keeping | cp -r | keeping / cp -r | keeping peak RSS "
        "| whole run | empty run | runner peak RSS | kept du | tree du |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['keep_s']:.2f} s | {row['cp_r_s']:.2f} s | "
            f"{row['keep_vs_cp']:.2f}x | {row['keep_peak_rss_mb']:.1f} MB | "
            f"{row['run_s']:.2f} s | {row['empty_run_s']:.2f} s | "
            f"{row['runner_peak_rss_mb']:.1f} MB | {row['kept_du_mb']:.1f} MB | "
            f"{row['tree_du_mb']:.1f} MB |"
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
