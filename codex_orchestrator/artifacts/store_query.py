"""``store list`` and ``store get``: reading store commits back from git."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from codex_orchestrator.artifacts import store_names as names
from codex_orchestrator.artifacts.gitrepo import GitRepo
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import StoreSettings


def list_entries(
    repo: GitRepo, settings: StoreSettings, workflow: str | None, limit: int
) -> list[dict[str, Any]]:
    """Commits on the store branches (one workflow's when given), newest first."""
    prefix = f"refs/heads/{settings.branch_prefix}/"
    if workflow is not None:
        prefix += names.check_name(workflow, "workflow id") + "/"
    branches = repo.out("for-each-ref", "--format=%(refname)", prefix).split()
    if not branches:
        return []
    output = repo.out(
        "log",
        "--date-order",
        f"--max-count={limit}",
        f"--format={names.trailer_format()}",
        *branches,
        "--",
    )
    tags = _tags_by_commit(repo)
    return [
        {**record, "tags": tags.get(str(record["commit_sha"]), [])}
        for record in names.parse_trailer_records(output)
    ]


def get_entry(repo: GitRepo, correlation_id: str) -> dict[str, Any]:
    """The commit tagged ``corr_<id>``, its trailers and its metadata.json; exit 2 if none."""
    tag = names.correlation_tag(correlation_id)
    commit = repo.ref(f"refs/tags/{tag}")
    if commit is None:
        raise InvalidInput(f"no store commit is tagged {tag}")
    output = repo.out("log", "-1", f"--format={names.trailer_format()}", commit, "--")
    records = names.parse_trailer_records(output)
    if not records:
        raise InvalidInput(f"{tag}: not a store commit")
    entry: dict[str, Any] = dict(records[0])
    entry["tag"] = tag
    entry["tags"] = _tags_by_commit(repo).get(commit, [tag])
    entry["metadata"] = read_metadata(repo, commit, entry.get("store_path"))
    return entry


def read_metadata(repo: GitRepo, commit: str, directory: str | None) -> dict[str, Any] | None:
    """``<store path>/metadata.json`` of a store commit, or None when it cannot be read."""
    if not directory:
        return None
    result = repo.run("cat-file", "blob", f"{commit}:{directory}/{names.METADATA_NAME}")
    if not result.ok:
        return None
    try:
        document = orjson.loads(result.stdout)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _tags_by_commit(repo: GitRepo) -> dict[str, list[str]]:
    output = repo.out(
        "for-each-ref",
        "--format=%(objectname) %(refname:strip=2)",
        f"refs/tags/{names.CORR_PREFIX}*",
        f"refs/tags/{names.PROMPT_PREFIX}*",
    )
    tags: dict[str, list[str]] = defaultdict(list)
    for line in output.splitlines():
        sha, _, name = line.partition(" ")
        tags[sha].append(name)
    return dict(tags)
