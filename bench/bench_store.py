"""Time ``store commit`` of 1,000 files against plain ``git add && git commit`` of the same files.

Run from the repository root with the package installed:

    python bench/bench_store.py [--files 1000] [--repeat 5]

Each round builds a fresh scratch repository with the files (1 KiB text each, in 20
directories, no secrets), then times, in that round:

- baseline: ``git add -A && git commit -q`` in the repository itself;
- ours: ``codex-orchestrator store commit --no-push`` of the same files (secret scan
  on, as by default), into a branch of a second, identical repository;
- ours without the scan (``store.scanSecrets: false``), to show what scanning costs.

It prints the git version, the load average and median (min-max) seconds of each, and
whether ours stays under the target (2 s for 1,000 files).
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

TARGET_SECONDS = 2.0
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True)


def make_repo(path: Path, files: int, scan: bool) -> None:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("bench\n")
    store = '{"pipelines": [], "store": {"autoPush": false, "scanSecrets": %s}}' % (
        "true" if scan else "false"
    )
    (path / "codex.orchestrator.json").write_text(store)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    out = path / "out"
    for n in range(files):
        target = out / f"dir{n % 20:02d}" / f"file{n:04d}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"value_{n}_{line} = {line * n}  # generated line\n" for line in range(30))
        target.write_text(body[:1024])


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)
    return time.perf_counter() - started


def one_round(scratch: Path, files: int, index: int) -> tuple[float, float, float]:
    base, ours, plain = (scratch / f"{name}{index}" for name in ("git", "ours", "noscan"))
    make_repo(base, files, scan=True)
    make_repo(ours, files, scan=True)
    make_repo(plain, files, scan=False)
    baseline = timed(["sh", "-c", "git add -A && git commit -q -m bench"], base)
    command = [sys.executable, "-m", "codex_orchestrator", "store", "commit", "--task", "B1"]
    command += ["--workflow", "bench", "--no-push", "out"]
    with_scan = timed(command, ours)
    without_scan = timed(command, plain)
    for repo in (base, ours, plain):
        shutil.rmtree(repo)
    return baseline, with_scan, without_scan


def describe(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f} s ({min(samples):.3f}-{max(samples):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    version = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
    print(
        f"{version.stdout.strip()}; python {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.2f}; {args.files} files; {args.repeat} rounds"
    )
    results: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as scratch:
        one_round(Path(scratch), args.files, 0)  # warm-up: caches, imports
        for index in range(1, args.repeat + 1):
            results.append(one_round(Path(scratch), args.files, index))
            print(f"round {index}: " + ", ".join(f"{s:.3f}" for s in results[-1]), file=sys.stderr)
    baseline, with_scan, without_scan = (list(column) for column in zip(*results, strict=True))
    ratio = statistics.median(with_scan) / statistics.median(baseline)
    verdict = "PASS" if statistics.median(with_scan) < TARGET_SECONDS else "FAIL"
    print("| what | median (min-max) |")
    print("| --- | --- |")
    print(f"| `git add -A && git commit` (baseline) | {describe(baseline)} |")
    print(f"| `store commit`, secret scan on | {describe(with_scan)} ({ratio:.2f}x baseline) |")
    print(f"| `store commit`, scanSecrets false | {describe(without_scan)} |")
    print(f"target: store commit of {args.files} files under {TARGET_SECONDS:g} s: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
