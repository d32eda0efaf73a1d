"""The ``store`` commands' glue: options to requests, core calls, one result printed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.cli.common import emit_json
from codex_orchestrator.cli.output import warn
from codex_orchestrator.errors import ExitCode, InvalidInput
from codex_orchestrator.model import Config

_META_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitOptions:
    """``store commit``'s options, as given."""

    root: Path
    cwd: Path
    config: Path | None
    files: tuple[str, ...]
    workflow: str | None
    task: str | None
    run: str | None
    correlation_id: str | None
    prompt_hash: str | None
    meta: tuple[str, ...]
    push: bool
    json: bool


def load(root: Path, config: Path | None) -> Config:
    """The config (defaults without a file); its warnings on stderr."""
    from codex_orchestrator.config import load_config, resolve_config_path

    loaded = load_config(resolve_config_path(config, root), root)
    for message in loaded.warnings:
        warn(message)
    return loaded


def parse_meta(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``--meta K=V`` pairs; a value that parses as JSON (numbers, objects) is kept as such."""
    meta: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not set(key) <= _META_KEY_CHARS:
            raise InvalidInput(f"--meta {pair!r}: expected KEY=VALUE (KEY: letters, digits, _.-)")
        try:
            meta[key] = orjson.loads(value) if value[:1] in "{[0123456789-" else value
        except orjson.JSONDecodeError:
            meta[key] = value
    return meta


def run_commit(options: CommitOptions) -> ExitCode:
    """``store commit``: files or a run's kept artifacts."""
    from codex_orchestrator.artifacts.store_commit import StoreCommitRequest, store_commit
    from codex_orchestrator.store.layout import resolve_task_id

    if not options.workflow:
        raise InvalidInput("--workflow is required")
    if options.run is not None and options.files:
        raise InvalidInput("give --run ID or files, not both")
    config = load(options.root, options.config)
    settings = config.store
    if options.run is not None:
        request = _run_request(options, config)
    else:
        request = StoreCommitRequest(
            cwd=options.cwd,
            settings=settings,
            workflow_id=options.workflow,
            task_id=resolve_task_id(options.task),
            paths=options.files,
            correlation_id=options.correlation_id,
            prompt_hash=options.prompt_hash,
            meta=parse_meta(options.meta),
            push=options.push,
            require_correlation_id=bool(settings.require_correlation_id),
        )
    result = store_commit(request)
    document = result.document()
    if document["push_error"]:
        warn(f"committed locally; not pushed: {document['push_error']}")
    if options.json:
        emit_json(document)
    else:
        from codex_orchestrator.ui.store_view import render_commit

        render_commit(document, sys.stdout)
    return ExitCode.OK


def _run_request(options: CommitOptions, config: Config) -> Any:
    """``store commit --run ID``: the run's kept artifacts, under ``<instance>/<path>``."""
    from codex_orchestrator.artifacts.requests import layout_of
    from codex_orchestrator.artifacts.runs import open_run
    from codex_orchestrator.artifacts.store_commit import StoreCommitRequest
    from codex_orchestrator.artifacts.store_run import kept_files, test_metrics

    assert options.run is not None  # noqa: S101 - the caller checked
    assert options.workflow is not None  # noqa: S101 - the caller checked
    run = open_run(layout_of(options.root), options.run, options.task, config.artifacts.dir)
    required = config.store.require_correlation_id
    return StoreCommitRequest(
        cwd=options.root,
        settings=config.store,
        workflow_id=options.workflow,
        task_id=run.ref.task_id,
        files=kept_files(run),
        run_id=run.ref.run_id,
        correlation_id=options.correlation_id,
        prompt_hash=options.prompt_hash,
        meta=parse_meta(options.meta),
        test_metrics=test_metrics(run.manifest),
        push=options.push,
        require_correlation_id=True if required is None else required,
    )


def run_push(root: Path, cwd: Path, config: Path | None, json_output: bool) -> ExitCode:
    """``store push``: every store branch and tag."""
    from codex_orchestrator.artifacts.gitrepo import GitRepo
    from codex_orchestrator.artifacts.store_push import all_refspecs, push_refs

    settings = load(root, config).store
    repo = GitRepo.discover(cwd)
    outcome = push_refs(repo, settings, all_refspecs(repo, settings))
    if json_output:
        emit_json(outcome.to_dict())
    else:
        from codex_orchestrator.ui.store_view import render_push

        render_push(outcome.to_dict(), sys.stdout)
    if not outcome.pushed:
        warn(f"not pushed: {outcome.error}")
        return ExitCode.RUN_FAILED
    return ExitCode.OK


def run_list(
    root: Path, cwd: Path, config: Path | None, workflow: str | None, limit: int, json_output: bool
) -> ExitCode:
    """``store list``."""
    from codex_orchestrator.artifacts.gitrepo import GitRepo
    from codex_orchestrator.artifacts.store_query import list_entries

    settings = load(root, config).store
    entries = list_entries(GitRepo.discover(cwd), settings, workflow, limit)
    if json_output:
        emit_json(entries)
    else:
        from codex_orchestrator.ui.store_view import render_list

        render_list(entries, sys.stdout)
    return ExitCode.OK


def run_get(
    root: Path, cwd: Path, config: Path | None, correlation_id: str, json_output: bool
) -> ExitCode:
    """``store get``."""
    from codex_orchestrator.artifacts.gitrepo import GitRepo
    from codex_orchestrator.artifacts.store_query import get_entry

    load(root, config)
    entry = get_entry(GitRepo.discover(cwd), correlation_id)
    if json_output:
        emit_json(entry)
    else:
        from codex_orchestrator.ui.store_view import render_get

        render_get(entry, sys.stdout)
    return ExitCode.OK


def run_revert(
    root: Path, cwd: Path, config: Path | None, tag: str, branch: str, json_output: bool
) -> ExitCode:
    """``store revert``."""
    from codex_orchestrator.artifacts.gitrepo import GitRepo
    from codex_orchestrator.artifacts.store_revert import revert_to_tag

    settings = load(root, config).store
    reverted = revert_to_tag(GitRepo.discover(cwd), settings, tag, branch)
    if json_output:
        emit_json(reverted.to_dict())
    else:
        sys.stdout.write(
            f"{reverted.branch}: {reverted.commit_sha[:12]} restores {reverted.path} "
            f"as of {reverted.reverted_to}\n"
        )
    return ExitCode.OK
