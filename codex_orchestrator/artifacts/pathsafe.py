"""The one path-safety check every name from a user goes through.

A name is a relative path inside a workspace (``report/summary.md``). Refused, with
exit code 2: an empty name, a NUL byte, an absolute path, a ``..`` segment, a part
over 255 bytes or a name over 4096 (no file system holds them), and any name that,
once symbolic links are followed, leads outside the workspace.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.store.layout import NAME_MAX

PATH_MAX = 4096  # bytes of a whole path on Linux


def check_name(name: str, *, what: str = "path") -> PurePosixPath:
    """``name`` as a clean relative path, or InvalidInput saying what is wrong with it."""
    if not name:
        raise InvalidInput(f"invalid {what}: it is empty")
    if "\x00" in name:
        raise InvalidInput(f"invalid {what} {name!r}: contains a NUL byte")
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute():
        raise InvalidInput(f"invalid {what} {name!r}: absolute paths are not allowed")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise InvalidInput(f"invalid {what} {name!r}: '..' is not allowed")
    if not parts:
        raise InvalidInput(f"invalid {what} {name!r}: names no file")
    sizes = [len(part.encode("utf-8", "surrogatepass")) for part in parts]
    if max(sizes) > NAME_MAX:
        raise InvalidInput(
            f"invalid {what} {name[:40]!r}...: a part is longer than {NAME_MAX} bytes"
        )
    if sum(sizes) + len(sizes) > PATH_MAX:
        raise InvalidInput(f"invalid {what} {name[:40]!r}...: longer than {PATH_MAX} bytes")
    return PurePosixPath(*parts)


def resolve_inside(base: Path, name: str, *, what: str = "path") -> Path:
    """``base / name`` after the checks of ``check_name`` and with every link followed.

    The result is the resolved path, guaranteed to lie inside the resolved ``base``;
    it need not exist. A link (at any depth) leading outside ``base`` is refused.
    """
    relative = check_name(name, what=what)
    root = Path(os.path.realpath(base))
    resolved = Path(os.path.realpath(root.joinpath(*relative.parts)))
    if resolved != root and not resolved.is_relative_to(root):
        raise InvalidInput(f"invalid {what} {name!r}: leads outside the workspace")
    if resolved == root:
        raise InvalidInput(f"invalid {what} {name!r}: names the workspace, not a file in it")
    return resolved
