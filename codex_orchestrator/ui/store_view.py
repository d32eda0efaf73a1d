"""Plain text for the ``store`` commands (no colour: these lines land in CI logs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO


def render_commit(document: Mapping[str, Any], out: TextIO) -> None:
    """What ``store commit`` did, in a few lines."""
    files = document["files"]
    out.write(
        f"committed {len(files)} file{'s' if len(files) != 1 else ''} to {document['branch']} "
        f"as {document['commit_sha'][:12]}\n"
    )
    out.write(f"tags: {', '.join(document['tags']) or '-'}\n")
    pushed = "yes" if document["pushed"] else f"no ({document['push_error'] or 'autoPush off'})"
    out.write(f"pushed: {pushed}\n")


def render_push(document: Mapping[str, Any], out: TextIO) -> None:
    """What ``store push`` did."""
    if document["pushed"]:
        out.write(
            f"pushed to {document['remote']}: {len(document['updated'])} updated, "
            f"{len(document['up_to_date'])} up to date\n"
        )
    else:
        out.write(f"not pushed to {document['remote']}: {document['push_error']}\n")
    out.writelines(f"  updated  {ref}\n" for ref in document["updated"])
    out.writelines(f"  rejected {ref}\n" for ref in document["rejected"])


def render_list(entries: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """One line per store commit, newest first."""
    if not entries:
        out.write("no store commits\n")
        return
    for entry in entries:
        tags = ",".join(entry["tags"]) or "-"
        out.write(
            f"{entry['committed_at']}  {entry['commit_sha'][:12]}  {entry['branch'] or '-'}  "
            f"{tags}\n"
        )


def render_get(entry: Mapping[str, Any], out: TextIO) -> None:
    """A store commit and the files its metadata lists."""
    metadata = entry["metadata"] or {}
    out.write(f"correlation id: {entry['correlation_id']}\n")
    out.write(f"commit:         {entry['commit_sha']}\n")
    out.write(f"branch:         {entry['branch'] or '-'}\n")
    out.write(f"committed at:   {entry['committed_at']}\n")
    out.write(f"author:         {entry['author']}\n")
    out.write(f"run:            {metadata.get('run_id') or '-'}\n")
    out.writelines(
        f"  {item['path']}  {item['size']} B  sha256:{item['sha256'][:12]}\n"
        for item in metadata.get("files", [])
    )
