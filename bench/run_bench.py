"""Benchmark codex-orchestrator against the TypeScript tool and a bare-subprocess baseline.

Prints a markdown table (median, min-max over --repeat runs after one warm-up, and the
ratio ours/theirs) and, with --json, a JSON document after it. Progress goes to stderr.
Exit status: 0, or 1 when one of our runs failed a correctness check. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_report import as_json, table
from bench_scenarios import OURS, SCENARIOS, THEIRS, Context, Figure, Tool

DESCRIPTION = "Benchmark codex-orchestrator against the TypeScript tool and bare subprocesses."
TS_BIN_ENV = "CODEX_ORCHESTRATOR_TS_BIN"
TS_BIN_NAME = "codex-orchestrator"
# Variables that would point either tool away from the temp project or its default task.
REDIRECTING_ENV = (
    "MCP_RUNNER_TASK_ID",
    "CODEX_ORCHESTRATOR_TASK_ID",
    "CODEX_ORCHESTRATOR_REPO_CONFIG_PATH",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--repeat", type=int, default=5, help="recorded runs per tool (default 5)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {','.join(SCENARIOS)}"
    )
    parser.add_argument("--ts-bin", type=Path, help=f"the TypeScript tool (else ${TS_BIN_ENV})")
    parser.add_argument(
        "--ts-prefix", type=Path, help=f"npm prefix holding node_modules/.bin/{TS_BIN_NAME}"
    )
    parser.add_argument("--ours-bin", type=Path, help="our tool (default: python -m ...)")
    parser.add_argument("--json", action="store_true", help="print a JSON document after the table")
    parser.add_argument("--keep", action="store_true", help="keep the temp project dirs")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_ts_bin(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The TypeScript tool's binary and where it was found (or why it was not)."""
    if args.ts_bin is not None:
        if not _executable(args.ts_bin):
            sys.exit(f"--ts-bin {args.ts_bin}: not an executable file")
        return args.ts_bin, "--ts-bin"
    from_env = os.environ.get(TS_BIN_ENV)
    if from_env:
        if _executable(Path(from_env)):
            return Path(from_env), f"${TS_BIN_ENV}"
        return None, f"${TS_BIN_ENV}={from_env} is not an executable file"
    if args.ts_prefix is not None:
        for candidate in (
            args.ts_prefix / "node_modules" / ".bin" / TS_BIN_NAME,
            args.ts_prefix / "bin" / TS_BIN_NAME,
        ):
            if _executable(candidate):
                return candidate, "--ts-prefix"
        return None, f"no {TS_BIN_NAME} under --ts-prefix {args.ts_prefix}"
    return None, f"no --ts-bin, ${TS_BIN_ENV} or --ts-prefix given"


def _version(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(
            [*argv, "--version"], check=False, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    lines = done.stdout.strip().splitlines()
    return lines[-1] if done.returncode == 0 and lines else f"unavailable (exit {done.returncode})"


def resolve_tools(args: argparse.Namespace) -> tuple[tuple[Tool, ...], dict[str, Any]]:
    """Our tool, the TypeScript tool when found, and their versions for the report."""
    ours_argv = (
        (str(args.ours_bin),)
        if args.ours_bin is not None
        else (sys.executable, "-m", "codex_orchestrator")
    )
    ours_version = _version(ours_argv)
    if ours_version.startswith("unavailable"):
        sys.exit(f"our tool does not start ({' '.join(ours_argv)}): {ours_version}")
    tools = [Tool(key=OURS, argv=ours_argv)]
    meta: dict[str, Any] = {"ours": {"argv": list(ours_argv), "version": ours_version}}
    ts_bin, found = find_ts_bin(args)
    if ts_bin is None:
        print(
            f"TypeScript tool not found ({found}): comparing against the bare-subprocess "
            "baseline only.",
            file=sys.stderr,
        )
        meta[THEIRS] = None
    else:
        tools.append(Tool(key=THEIRS, argv=(str(ts_bin),)))
        meta[THEIRS] = {
            "argv": [str(ts_bin)],
            "found_by": found,
            "version": _version([str(ts_bin)]),
        }
    return tuple(tools), meta


def bench_env() -> dict[str, str]:
    """The environment both tools run in."""
    return {key: value for key, value in os.environ.items() if key not in REDIRECTING_ENV}


def run_scenarios(ctx: Context, names: Sequence[str]) -> list[Figure]:
    """Run the named scenarios in order; return their figures (each reported once)."""
    figures: list[Figure] = []
    for name in names:
        print(f"{name}:", file=sys.stderr, flush=True)
        figures.extend(f for f in SCENARIOS[name](ctx) if all(f is not g for g in figures))
    return figures


def host_meta(load_before: float) -> dict[str, Any]:
    """The machine the figures come from, and how busy it was."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": {"before": load_before, "after": os.getloadavg()[0]},
    }


def print_report(
    figures: Sequence[Figure], meta: dict[str, Any], ctx: Context, *, with_json: bool
) -> None:
    """A one-line header, the markdown table, problems seen, then JSON if asked."""
    theirs = meta[THEIRS]["version"] if meta[THEIRS] else "not found"
    load = meta["load_average_1m"]
    print(
        f"ours {meta[OURS]['version']} vs TypeScript {theirs}; {meta['cpus']} CPUs, "
        f"Python {meta['python']}, {meta['platform']}; 1-min load {load['before']:.2f} before, "
        f"{load['after']:.2f} after; median (min-max) of {meta['repeat']} runs after 1 warm-up.\n"
    )
    print(table(figures))
    for line in ctx.failures:
        print(f"\n**{line}**")
    for line in ctx.warnings:
        print(f"\n{line}")
    if with_json:
        document = as_json(figures, meta) | {"failures": ctx.failures, "warnings": ctx.warnings}
        print()
        print(json.dumps(document, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    args = parse_args(argv)
    tools, meta = resolve_tools(args)
    names = [name for name in SCENARIOS if name in args.scenarios.split(",")]
    root = Path(tempfile.mkdtemp(prefix="co-bench-"))
    ctx = Context(tools=tools, repeat=args.repeat, root=root, env=bench_env(), keep=args.keep)
    load_before = os.getloadavg()[0]
    try:
        figures = run_scenarios(ctx, names)
    finally:
        if args.keep:
            print(f"kept project dirs under {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    meta |= host_meta(load_before) | {"repeat": args.repeat, "scenarios": names}
    print_report(figures, meta, ctx, with_json=args.json)
    return 1 if ctx.failures else 0


if __name__ == "__main__":
    sys.exit(main())
