"""``artifacts collect|list|show|ls|get|prune|pack|search``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    FormatOption,
    LatestOption,
    OutputFormat,
    RunOption,
    chosen_run,
    emit_json,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode

RunTaskOption = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="The run's task (default: search every task).",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")
]


def _warn(message: str) -> None:
    sys.stderr.write(f"codex-orchestrator: warning: {message}\n")


def register(app: typer.Typer) -> None:
    """Add the commands to the ``artifacts`` sub-app."""
    for name, function in (
        ("collect", collect),
        ("list", list_),
        ("show", show),
        ("ls", ls),
        ("get", get),
        ("prune", prune),
        ("pack", pack),
        ("search", search),
    ):
        app.command(name)(function)


def collect(
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Rebuild metadata.json, summary.md and index.json of a run (older and lost runs too)."""
    from codex_orchestrator.artifacts.requests import RunRequest, collect_run

    root = repo_root()

    def call() -> ExitCode:
        run_id = chosen_run(root, run, latest, task)
        request = RunRequest(root=root, run_id=run_id, task=task, config=config)
        result = collect_run(request, _warn)
        for warning in result.warnings:
            _warn(warning)
        if fmt is OutputFormat.JSON:
            emit_json(result.to_dict())
        else:
            from codex_orchestrator.ui.artifacts_view import render_collect

            render_collect(result.to_dict())
        if result.status == "error":
            if fmt is OutputFormat.TEXT:
                sys.stderr.write(f"codex-orchestrator: error: {result.error}\n")
            return ExitCode.USAGE
        return ExitCode.OK

    run_core(call)


def list_(
    task: Annotated[
        str | None,
        typer.Option(
            "--task", help="Only this task's runs (default: every task).", show_default=False
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Runs with collected artifacts, newest first."""
    from codex_orchestrator.artifacts.listing import list_runs
    from codex_orchestrator.artifacts.requests import layout_of

    root = repo_root()

    def call() -> ExitCode:
        rows = list_runs(layout_of(root), task)
        if fmt is OutputFormat.JSON:
            emit_json(rows)
        else:
            from codex_orchestrator.ui.artifacts_view import render_list

            render_list(rows)
        return ExitCode.OK

    run_core(call)


def show(
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """A run's collected metadata: instances, statuses, totals."""
    from codex_orchestrator.artifacts import listing
    from codex_orchestrator.artifacts.requests import RunRequest, run_of

    root = repo_root()

    def call() -> ExitCode:
        request = RunRequest(root=root, run_id=chosen_run(root, run, latest, task), task=task)
        document = listing.show(run_of(request))
        if fmt is OutputFormat.JSON:
            emit_json(document)
        else:
            from codex_orchestrator.ui.artifacts_view import render_show

            render_show(document)
        return ExitCode.OK

    run_core(call)


def ls(
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance",
            help="Only this instance (NN-slug).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """The kept files of a run (mode archived), or of its live workspaces (mode live)."""
    from codex_orchestrator.artifacts import listing
    from codex_orchestrator.artifacts.requests import RunRequest, run_of

    root = repo_root()

    def call() -> ExitCode:
        request = RunRequest(root=root, run_id=chosen_run(root, run, latest, task), task=task)
        rows = [item.to_dict() for item in listing.ls(run_of(request), instance)]
        if fmt is OutputFormat.JSON:
            emit_json(rows)
        else:
            from codex_orchestrator.ui.artifacts_view import render_ls

            render_ls(rows)
        return ExitCode.OK

    run_core(call)


def get(
    path: Annotated[str, typer.Argument(help="<instance>/<path> of a kept file.")],
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write to this file instead of stdout.",
            show_default=False,
        ),
    ] = None,
    identity: Annotated[
        Path | None,
        typer.Option(
            "--identity",
            help="age identity file (or OpenSSH key) to decrypt a sealed file "
            "(default: $CODEX_ORCHESTRATOR_AGE_IDENTITY).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Write a kept file's bytes to stdout (or --out FILE); a sealed one needs --identity."""
    from codex_orchestrator.artifacts import listing
    from codex_orchestrator.artifacts.requests import RunRequest, run_of
    from codex_orchestrator.artifacts.sealedfiles import (
        identity_path,
        sealed_source,
        write_sealed,
    )

    root = repo_root()

    def call() -> ExitCode:
        request = RunRequest(root=root, run_id=chosen_run(root, run, latest, task), task=task)
        found = run_of(request)
        sealed = sealed_source(found, path)
        if sealed is not None:
            write_sealed(sealed, path, identity_path(identity), out)
            return ExitCode.OK
        chunks = iter(listing.open_file(found, path))
        first = next(chunks, b"")  # errors (absent, refused) surface before any output
        if out is None:
            sys.stdout.buffer.write(first)
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            return ExitCode.OK
        with out.open("wb") as handle:
            handle.write(first)
            for chunk in chunks:
                handle.write(chunk)
        return ExitCode.OK

    run_core(call)


def prune(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Prune runs older than this (30d, 12h).", show_default=False
        ),
    ] = None,
    keep_last: Annotated[
        int | None,
        typer.Option(
            "--keep-last", min=0, help="Keep the newest N runs of each task.", show_default=False
        ),
    ] = None,
    max_size: Annotated[
        str | None,
        typer.Option(
            "--max-size", help="Prune oldest runs until kept files fit (10GB).", show_default=False
        ),
    ] = None,
    dry_run: DryRunOption = False,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Remove kept files by age, count or size (without flags: the config's retention)."""
    from codex_orchestrator.artifacts.prune import prune as prune_core
    from codex_orchestrator.artifacts.requests import (
        PruneRequest,
        layout_of,
        prune_request_retention,
    )
    from codex_orchestrator.artifacts.units import parse_days, parse_size

    def call() -> ExitCode:
        request = PruneRequest(
            root=repo_root(),
            older_than_days=parse_days(older_than) if older_than is not None else None,
            keep_last=keep_last,
            max_size=parse_size(max_size) if max_size is not None else None,
            dry_run=dry_run,
            config=config,
        )
        retention = prune_request_retention(request, _warn)
        if not retention.prunes:
            document = {
                "dry_run": dry_run,
                "pruned": [],
                "skipped": [],
                "objects_removed": 0,
                "bytes_freed": 0,
            }
        else:
            document = prune_core(layout_of(request.root), retention, dry_run=dry_run)
        if fmt is OutputFormat.JSON:
            emit_json(document)
        else:
            from codex_orchestrator.ui.artifacts_view import render_prune

            render_prune(document)
        return ExitCode.OK

    run_core(call)


def pack(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Pack runs older than this (7d, 12h).")
    ] = "7d",
    dry_run: DryRunOption = False,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Pack each older run's kept files into one artifacts.tar.zst."""
    from codex_orchestrator.artifacts.requests import layout_of
    from codex_orchestrator.artifacts.retention import pack_runs
    from codex_orchestrator.artifacts.units import parse_days

    def call() -> ExitCode:
        document = pack_runs(layout_of(repo_root()), parse_days(older_than), dry_run=dry_run)
        if fmt is OutputFormat.JSON:
            emit_json(document)
        else:
            from codex_orchestrator.ui.artifacts_view import render_pack

            render_pack(document)
        return ExitCode.OK

    run_core(call)


def search(
    query: Annotated[str, typer.Argument(help="Words to find (SQLite FTS5 syntax allowed).")],
    task: RunTaskOption = None,
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="Only this run.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many hits.")] = 50,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Full-text search over kept text files and output logs."""
    from codex_orchestrator.artifacts.requests import layout_of
    from codex_orchestrator.artifacts.search import search as search_core
    from codex_orchestrator.store.layout import validate_run_id, validate_task_id

    def call() -> ExitCode:
        hits = search_core(
            layout_of(repo_root()),
            query,
            task=validate_task_id(task) if task else None,
            run_id=validate_run_id(run) if run else None,
            limit=limit,
        )
        if fmt is OutputFormat.JSON:
            emit_json(hits)
        else:
            from codex_orchestrator.ui.artifacts_view import render_search

            render_search(hits)
        return ExitCode.OK

    run_core(call)
