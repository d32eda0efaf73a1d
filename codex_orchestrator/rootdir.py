"""Where the repository root is: the directory that holds the config, found by walking up.

Run from a subdirectory, the orchestrator finds ``codex.orchestrator.json`` in the
nearest directory above, up to the git top level (where ``.git`` is), and ``.runs``
lives beside it. Outside a git repository only the working directory counts, so a
stray config in a parent directory (``/tmp``, ``$HOME``) is never picked up.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_NAME = "codex.orchestrator.json"


def find_repo_root(start: Path) -> Path:
    """The nearest directory from ``start`` up to the git top level holding the config;
    else the git top level; else ``start`` itself (not in a git repository)."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_NAME).is_file():
            return directory if _inside_git(start, directory) else start
        if (directory / ".git").exists():
            return directory
    return start


def _inside_git(start: Path, found: Path) -> bool:
    """Whether the walk from ``start`` to ``found`` stays inside one git repository."""
    if found == start:
        return True
    return any((directory / ".git").exists() for directory in (found, *found.parents))
