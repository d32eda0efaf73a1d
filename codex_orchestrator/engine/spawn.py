"""Handing a file to another program (an editor, the desktop's opener) without waiting.

Beside ``process.py`` because only the engine starts processes. The program gets its
own session and ``/dev/null`` for its standard streams, so it outlives the command
that started it and never reads from or writes to that command's terminal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from codex_orchestrator.errors import InvalidInput


def spawn_detached(argv: Sequence[str]) -> int:
    """Start ``argv`` (looked up on PATH) in a new session and return its pid at once."""
    if not argv:
        raise InvalidInput("no program to start")
    program = shutil.which(argv[0])
    if program is None:
        raise InvalidInput(f"cannot start {argv[0]!r}: not found on PATH")
    devnull = os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
    ]
    try:
        return os.posix_spawn(program, list(argv), os.environ, file_actions=actions, setsid=True)
    except OSError as exc:
        raise InvalidInput(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from exc
