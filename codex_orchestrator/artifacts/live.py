"""``artifacts open`` / ``artifacts edit``: hand a live file to another program.

``open`` uses the platform's opener (``xdg-open``; ``open`` on macOS) and ``edit``
uses ``$VISUAL``, else ``$EDITOR``; neither waits for the program. Names go through
the one path-safety check; ``edit`` refuses files that are no longer live (their stage
ended and they were kept), and neither touches a sealed file.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.pathsafe import resolve_inside
from codex_orchestrator.artifacts.seal import sealed_name
from codex_orchestrator.errors import InvalidInput

EDITOR_VARIABLES = ("VISUAL", "EDITOR")


@dataclass(frozen=True, slots=True, kw_only=True)
class HandedOver:
    """A file given to a program that now runs on its own."""

    name: str
    file: Path
    argv: tuple[str, ...]
    pid: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``artifacts open|edit --format json`` prints."""
        return {
            "path": self.name,
            "file": str(self.file),
            "command": list(self.argv),
            "pid": self.pid,
        }


def editor_argv() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, split like a shell would (``code -n``)."""
    for variable in EDITOR_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                raise InvalidInput(f"${variable} cannot be parsed: {exc}") from exc
            if argv:
                return argv
    raise InvalidInput("edit needs an editor: set $VISUAL or $EDITOR")


def opener_argv() -> list[str]:
    """The platform's program for opening a file with its default application."""
    return ["open"] if sys.platform == "darwin" else ["xdg-open"]


def live_target(workspace: Path, relative: str, *, name: str, live: bool, edit: bool) -> Path:
    """The file ``relative`` names in ``workspace``, if it may be opened (or edited)."""
    target = resolve_inside(workspace, relative)
    if not target.exists():
        if sealed_name(target).exists():
            raise InvalidInput(
                f"{name} is sealed; read it with 'artifacts get --identity FILE' instead"
            )
        raise InvalidInput(f"{name}: no such file in the workspace")
    if edit and not live:
        raise InvalidInput(
            f"{name} is not live: its stage has ended and the file is archived "
            "(edit works only while the stage runs)"
        )
    if not target.is_file():
        raise InvalidInput(f"{name} is not a regular file")
    return target


def hand_over(name: str, target: Path, *, edit: bool) -> HandedOver:
    """Start the editor or opener on ``target`` without waiting for it."""
    from codex_orchestrator.engine.spawn import spawn_detached

    argv = [*(editor_argv() if edit else opener_argv()), str(target)]
    pid = spawn_detached(argv)
    return HandedOver(name=name, file=target, argv=tuple(argv), pid=pid)
