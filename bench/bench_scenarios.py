"""The scenarios: each runs the tools alternately (A B A B) after one warm-up round.

A scenario returns ``Figure``s: per column (``bare``, ``ours``, ``theirs``) the values
of every recorded repetition, plus the target the figure is judged against.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench_process import (
    Measurement,
    bare_line_reader,
    bare_shell_loop,
    bare_stage_files,
    measure,
)
from bench_project import (
    FLUSH,
    SEQ,
    STAGE_COMMANDS,
    STAGES,
    STAGES_2000,
    STARTUP,
    PipelineSpec,
    check_our_run,
    clear_runs,
    make_project,
    parse_run_document,
)

OURS = "ours"
THEIRS = "theirs"
BARE = "bare"
MB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    """A codex-orchestrator implementation and how to start it."""

    key: str
    argv: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class Figure:
    """One reported figure: samples per column and its target, if it has one."""

    scenario: str
    label: str
    unit: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    ratio_limit: float | None = None
    abs_limit: float | None = None
    target: str = ""

    def add(self, column: str, value: float) -> None:
        """Record one repetition's value for ``column``."""
        self.samples.setdefault(column, []).append(value)


@dataclass(slots=True, kw_only=True)
class Context:
    """Everything a scenario needs: tools, repetitions, where projects go, problems seen."""

    tools: tuple[Tool, ...]
    repeat: int
    root: Path
    env: Mapping[str, str]
    keep: bool
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _projects: dict[tuple[str, str], Path] = field(default_factory=dict)
    seq_figures: tuple[Figure, ...] | None = None
    _scratch: int = 0

    def rounds(self) -> Iterator[bool]:
        """One warm-up round (False: discard), then ``repeat`` recorded rounds (True)."""
        yield False
        for _ in range(self.repeat):
            yield True

    def project(self, scenario: str, tool: Tool) -> Path:
        """The fresh project dir of ``tool`` for ``scenario`` (created on first use)."""
        key = (scenario, tool.key)
        if key not in self._projects:
            self._projects[key] = make_project(self.root / f"{scenario}-{tool.key}")
        return self._projects[key]

    def scratch(self, scenario: str) -> Path:
        """A new directory for a baseline's files (removed when the benchmark ends)."""
        self._scratch += 1
        return self.root / f"{scenario}-scratch-{self._scratch}"

    def problem(self, tool: Tool, what: str) -> None:
        """Record a problem: a loud FAIL for ours, a warning for theirs."""
        if tool.key == OURS:
            line = f"FAIL [{OURS}] {what}"
            self.failures.append(line)
        else:
            line = f"WARN [{tool.key}] {what}"
            self.warnings.append(line)
        print(line, file=sys.stderr, flush=True)

    def start(self, scenario: str, tool: Tool, spec: PipelineSpec) -> tuple[Measurement, str]:
        """Time one ``start`` run of ``spec``; check it; return it and its run id."""
        project = self.project(scenario, tool)
        argv = (*tool.argv, "start", spec.pipeline_id, "--format", "json", "--no-interactive")
        result = measure(argv, cwd=project, env=self.env, stage_commands=STAGE_COMMANDS)
        document = parse_run_document(result.stdout)
        if result.exit_code != 0:
            tail = result.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
            self.problem(tool, f"{scenario}: start exited {result.exit_code}: {tail[0]}")
        if tool.key == OURS:
            for what in check_our_run(project, document, spec):
                self.problem(tool, f"{scenario}: {what}")
        elif document is None:
            self.problem(tool, f"{scenario}: no JSON document with run_id on stdout")
        progress(f"{scenario} {tool.key} {spec.pipeline_id}: {result.wall_s:.3f} s")
        return result, str((document or {}).get("run_id", ""))


def progress(message: str) -> None:
    """One progress line on stderr, so stdout stays a pasteable table."""
    print(f"  {message}", file=sys.stderr, flush=True)


def stages_200(ctx: Context) -> tuple[Figure, ...]:
    """200 stages of ``true``: wall, start-up, and per-stage overhead over bare spawning."""
    name = "stages-200"
    bare = Figure(scenario=name, label="bare `sh -c true` per spawn", unit="ms")
    files = Figure(scenario=name, label="creating one stage's 5 files (in the overhead)", unit="ms")
    startup = Figure(scenario=name, label="start-up (1-stage pipeline)", unit="s")
    wall = Figure(
        scenario=name, label="wall", unit="s", ratio_limit=0.25, target="ours ≤ 0.25 x theirs"
    )
    overhead = Figure(
        scenario=name,
        label="per-stage overhead",
        unit="ms",
        abs_limit=1.0,
        target="ours ≤ 1 ms above bare",
    )
    for record in ctx.rounds():
        per_spawn = bare_shell_loop(STAGES.stages)
        per_files = bare_stage_files(STAGES.stages, ctx.scratch(name))
        progress(f"{name} bare: {per_spawn * 1000:.2f} ms per spawn")
        runs = {
            tool.key: (ctx.start(name, tool, STARTUP), ctx.start(name, tool, STAGES))
            for tool in ctx.tools
        }
        if not record:
            continue
        bare.add(BARE, per_spawn * 1000)
        files.add(BARE, per_files * 1000)
        for key, ((first, _), (full, _)) in runs.items():
            startup.add(key, first.wall_s)
            wall.add(key, full.wall_s)
            # The 1-stage start-up run paid for one stage: the difference is N - 1 stages.
            extra = STAGES.stages - STARTUP.stages
            overhead.add(key, ((full.wall_s - first.wall_s) / extra - per_spawn) * 1000)
    # Its runs (thousands of small files) stay until the benchmark ends: see _clear_after.
    return bare, files, startup, wall, overhead


def stages_2000(ctx: Context) -> tuple[Figure, ...]:
    """2,000 stages of ``true`` (ours only): the per-stage overhead stays flat."""
    name = "stages-2000"
    overhead = Figure(
        scenario=name,
        label="per-stage overhead",
        unit="ms",
        abs_limit=1.0,
        target="ours ≤ 1 ms above bare, as at 200",
    )
    ours = tuple(tool for tool in ctx.tools if tool.key == OURS)
    for record in ctx.rounds():
        per_spawn = bare_shell_loop(STAGES_2000.stages)
        progress(f"{name} bare: {per_spawn * 1000:.2f} ms per spawn")
        runs = {
            tool.key: (ctx.start(name, tool, STARTUP), ctx.start(name, tool, STAGES_2000))
            for tool in ours
        }
        if not record:
            continue
        for key, ((first, _), (full, _)) in runs.items():
            per_stage = (full.wall_s - first.wall_s) / (STAGES_2000.stages - STARTUP.stages)
            overhead.add(key, (per_stage - per_spawn) * 1000)
    return (overhead,)


def _clear_after(ctx: Context, name: str) -> None:
    """Delete a line scenario's runs once all of its rounds are timed (a few files of
    up to gigabytes each, too big to keep until the end).

    Never called for the stage scenarios: on ext4 without a journal, the kernel skips
    inodes freed in the last minutes when it picks one for a new file, so creating
    files right after deleting thousands of them is several times slower, which would
    slow whatever scenario is timed next. Their runs (small) go with the benchmark's
    temp dir when it ends. Deleting a few big files frees few inodes: no such effect.
    """
    if not ctx.keep:
        for tool in ctx.tools:
            clear_runs(ctx.project(name, tool))


def _line_scenario(
    ctx: Context,
    name: str,
    spec: PipelineSpec,
    wall: Figure,
    extra: Callable[[str, Measurement], None],
) -> Figure:
    rate = Figure(scenario=name, label="captured lines per second", unit="lines/s")
    for record in ctx.rounds():
        bare_wall, bare_lines = bare_line_reader(spec.command)
        if bare_lines != spec.lines:
            ctx.warnings.append(f"WARN [bare] {name}: read {bare_lines} lines, not {spec.lines}")
        progress(f"{name} bare: {bare_wall:.3f} s")
        runs = {}
        for tool in ctx.tools:
            runs[tool.key], _ = ctx.start(name, tool, spec)
        if not record:
            continue
        wall.add(BARE, bare_wall)
        rate.add(BARE, spec.lines / bare_wall)
        for key, result in runs.items():
            wall.add(key, result.wall_s)
            rate.add(key, spec.lines / result.wall_s)
            extra(key, result)
    _clear_after(ctx, name)
    return rate


def lines_200k_flush(ctx: Context) -> tuple[Figure, ...]:
    """One stage printing 200,000 lines, flushing after each."""
    name = "lines-200k-flush"
    wall = Figure(
        scenario=name, label="wall", unit="s", ratio_limit=0.5, target="ours ≤ 0.5 x theirs"
    )
    rate = _line_scenario(ctx, name, FLUSH, wall, lambda _key, _result: None)
    return wall, rate


def _seq_figures(ctx: Context) -> tuple[Figure, ...]:
    """seq-2m measured once per benchmark, shared by the seq-2m and rss scenarios."""
    if ctx.seq_figures is None:
        name = "seq-2m"
        wall = Figure(
            scenario=name, label="wall", unit="s", ratio_limit=0.8, target="ours ≤ 0.8 x theirs"
        )
        runner = Figure(
            scenario="rss",
            label="peak runner RSS on seq-2m (psutil)",
            unit="MB",
            abs_limit=40.0,
            target="ours ≤ 40 MB (theirs > 160 MB)",
        )
        tree = Figure(scenario="rss", label="ru_maxrss incl. reaped commands (wait4)", unit="MB")

        def add_rss(key: str, result: Measurement) -> None:
            runner.add(key, result.runner_rss_bytes / MB)
            tree.add(key, result.tree_maxrss_bytes / MB)

        rate = _line_scenario(ctx, name, SEQ, wall, add_rss)
        ctx.seq_figures = (wall, rate, runner, tree)
    return ctx.seq_figures


def seq_2m(ctx: Context) -> tuple[Figure, ...]:
    """One stage ``seq 1 2000000``: wall, lines per second, peak runner RSS."""
    wall, rate, runner, _ = _seq_figures(ctx)
    return wall, rate, runner


def rss(ctx: Context) -> tuple[Figure, ...]:
    """Peak runner RSS on seq-2m (shares seq-2m's runs)."""
    _, _, runner, tree = _seq_figures(ctx)
    return runner, tree


def status(ctx: Context) -> tuple[Figure, ...]:
    """``status --run <id> --format json`` on a finished stages-200 run of each tool."""
    name = "status"
    wall = Figure(
        scenario=name, label="wall", unit="s", ratio_limit=0.5, target="ours ≤ 0.5 x theirs"
    )
    run_ids = {tool.key: ctx.start(name, tool, STAGES)[1] for tool in ctx.tools}
    for record in ctx.rounds():
        for tool in ctx.tools:
            run_id = run_ids[tool.key]
            argv = (*tool.argv, "status", "--run", run_id, "--format", "json")
            project = ctx.project(name, tool)
            result = measure(argv, cwd=project, env=ctx.env, stage_commands=STAGE_COMMANDS)
            document = parse_run_document(result.stdout) or {}
            if result.exit_code != 0 or document.get("status") != "succeeded":
                ctx.problem(tool, f"status: exit {result.exit_code}, {document.get('status')!r}")
            progress(f"{name} {tool.key}: {result.wall_s:.3f} s")
            if record:
                wall.add(tool.key, result.wall_s)
    return (wall,)


SCENARIOS: dict[str, Callable[[Context], tuple[Figure, ...]]] = {
    "stages-200": stages_200,
    "stages-2000": stages_2000,
    "lines-200k-flush": lines_200k_flush,
    "seq-2m": seq_2m,
    "rss": rss,
    "status": status,
}
