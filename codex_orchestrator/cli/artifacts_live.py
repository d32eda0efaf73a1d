"""``artifacts watch|open|edit|seal``: live and sealed artifacts (LAYERS.md section 3)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from codex_orchestrator.cli.artifacts_cmds import RunTaskOption
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

PathArgument = Annotated[str, typer.Argument(help="<instance>/<path> of a file in a workspace.")]


def register(app: typer.Typer) -> None:
    """Add the commands to the ``artifacts`` sub-app."""
    app.command("watch")(watch)
    app.command("open")(open_)
    app.command("edit")(edit)
    app.command("seal")(seal)


def watch(
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Print one line per change to the run's live files until the run ends (NDJSON with json)."""
    from codex_orchestrator.artifacts.livecmds import LiveRequest
    from codex_orchestrator.artifacts.livecmds import watch as watch_core
    from codex_orchestrator.artifacts.watch import ChangeEvent

    root = repo_root()

    def emit(event: ChangeEvent) -> None:
        if fmt is OutputFormat.JSON:
            emit_json(event.to_dict(), pretty=False)
        else:
            sys.stdout.write(event.to_text() + "\n")
            sys.stdout.flush()

    def call() -> ExitCode:
        request = LiveRequest(root=root, run_id=chosen_run(root, run, latest, task), task=task)
        return watch_core(request, emit)

    run_core(call)


def _hand_over(
    run: str | None, latest: bool, path: str, task: str | None, fmt: OutputFormat, *, edit: bool
) -> None:
    from codex_orchestrator.artifacts.livecmds import LiveRequest, open_or_edit

    root = repo_root()

    def call() -> ExitCode:
        run_id = chosen_run(root, run, latest, task)
        request = LiveRequest(root=root, run_id=run_id, task=task, path=path)
        handed = open_or_edit(request, edit=edit)
        if fmt is OutputFormat.JSON:
            emit_json(handed.to_dict())
        else:
            sys.stdout.write(f"{'editing' if edit else 'opened'} {path} with {handed.argv[0]}\n")
        return ExitCode.OK

    run_core(call)


def open_(
    path: PathArgument,
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Open a file of a run with the platform's opener (xdg-open / open); does not wait."""
    _hand_over(run, latest, path, task, fmt, edit=False)


def edit(
    path: PathArgument,
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Open a live file in $VISUAL or $EDITOR without waiting (exit 2 once it is not live)."""
    _hand_over(run, latest, path, task, fmt, edit=True)


def seal(
    run: RunOption = None,
    latest: LatestOption = False,
    task: RunTaskOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
) -> None:
    """Seal a finished run's kept files with age (retries a failed seal; exit 1 if one fails)."""
    from codex_orchestrator.artifacts.livecmds import LiveRequest
    from codex_orchestrator.artifacts.livecmds import seal as seal_core

    root = repo_root()

    def call() -> ExitCode:
        run_id = chosen_run(root, run, latest, task)
        request = LiveRequest(root=root, run_id=run_id, task=task, config=config)
        result = seal_core(request)
        if fmt is OutputFormat.JSON:
            emit_json(result.to_dict())
        else:
            sys.stdout.write(
                f"run {result.run_id}: {result.status} ({result.sealed} sealed now, "
                f"{result.already_sealed} already sealed, {len(result.failed)} failed)\n"
            )
            for path, reason in result.failed:
                sys.stderr.write(f"codex-orchestrator: error: {path}: {reason}\n")
        return ExitCode.RUN_FAILED if result.failed else ExitCode.OK

    run_core(call)
