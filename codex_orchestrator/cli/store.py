"""``store commit | push | list | get | revert``: the git artifact store (LAYERS.md section 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    TaskOption,
    emit_json,
    repo_root,
    run_core,
)
from codex_orchestrator.errors import ExitCode, OrchestratorError

WorkflowOption = Annotated[
    str | None,
    typer.Option(
        "--workflow", help="Workflow id (required): the branch is <prefix>/<workflow>/<task>."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``store`` group to the app."""
    group = typer.Typer(
        name="store",
        help="Commit artifacts to git branches, tagged by correlation id; push, list, revert.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    group.command("commit")(commit)
    group.command("push")(push)
    group.command("list")(list_commits)
    group.command("get")(get)
    group.command("revert")(revert)
    app.add_typer(group, name="store")


def commit(
    files: Annotated[
        list[str] | None, typer.Argument(help="Files or directories (relative to here).")
    ] = None,
    workflow: WorkflowOption = None,
    task: TaskOption = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Commit the kept artifacts of run ID.")
    ] = None,
    correlation_id: Annotated[
        str | None,
        typer.Option("--correlation-id", help="Tag the commit corr_<ID> (default: generated)."),
    ] = None,
    prompt_hash: Annotated[
        str | None, typer.Option("--prompt-hash", help="Tag the commit prompt_<HASH>.")
    ] = None,
    meta: Annotated[
        list[str] | None,
        typer.Option("--meta", help="K=V added to metadata.json (agent_version, llm_version...)."),
    ] = None,
    no_push: Annotated[bool, typer.Option("--no-push", help="Do not push, whatever autoPush.")] = (
        False
    ),
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """Commit files (or a run's kept artifacts) onto the store branch, tagged; push if set.

    Exit 0 committed (also when the push failed: see push_error), 2 refused (secret found,
    correlation id taken, bad input), 3 git failed.
    """
    from codex_orchestrator.cli.store_commands import CommitOptions, run_commit

    options = CommitOptions(
        root=repo_root(),
        cwd=Path.cwd(),
        config=config,
        files=tuple(files or ()),
        workflow=workflow,
        task=task,
        run=run,
        correlation_id=correlation_id,
        prompt_hash=prompt_hash,
        meta=tuple(meta or ()),
        push=not no_push,
        json=fmt is OutputFormat.JSON,
    )
    run_core(lambda: _reported(lambda: run_commit(options), options.json))


def push(
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """Push every store branch and tag to store.remote (never forced). Exit 1 if it failed."""
    from codex_orchestrator.cli.store_commands import run_push

    run_core(lambda: run_push(repo_root(), Path.cwd(), config, fmt is OutputFormat.JSON))


def list_commits(
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Only this workflow's branches.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """Store commits, newest first: branch, correlation id, task, run, tags."""
    from codex_orchestrator.cli.store_commands import run_list

    run_core(
        lambda: run_list(repo_root(), Path.cwd(), config, workflow, limit, fmt is OutputFormat.JSON)
    )


def get(
    correlation_id: Annotated[str, typer.Argument(help="The correlation id (corr_ optional).")],
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """The commit tagged corr_<ID> and its metadata.json. Exit 2 when there is none."""
    from codex_orchestrator.cli.store_commands import run_get

    run_core(
        lambda: run_get(repo_root(), Path.cwd(), config, correlation_id, fmt is OutputFormat.JSON)
    )


def revert(
    tag: Annotated[str, typer.Argument(help="A corr_<id> or prompt_<hash> tag.")],
    branch: Annotated[str, typer.Option("--branch", help="The branch to commit to.")] = "main",
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
) -> None:
    """A new commit on BRANCH restoring TAG's files under its task's path (history kept).

    Refused (exit 2) when BRANCH is checked out with uncommitted changes.
    """
    from codex_orchestrator.cli.store_commands import run_revert

    run_core(
        lambda: run_revert(repo_root(), Path.cwd(), config, tag, branch, fmt is OutputFormat.JSON)
    )


def _reported(call: Callable[[], ExitCode], json_output: bool) -> ExitCode:
    """Run ``call``; with JSON output a refusal still prints the result document."""
    try:
        return call()
    except OrchestratorError as exc:
        if json_output:
            from codex_orchestrator.artifacts.store_commit import failed_document

            emit_json(failed_document(exc.message))
        raise
