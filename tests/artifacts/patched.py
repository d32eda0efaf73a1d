"""The real CLI in a subprocess with one function replaced first (faults made deterministic).

Some faults cannot be produced on demand with real files: another filesystem under the
object store, a file removed in the instant between listing and copying. The runner is
started as ``python -c PATCH; main()`` so the fault happens in the process that keeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import RunFiles

MAIN = "\nfrom codex_orchestrator.cli.app import main\nsys.argv[0] = 'codex-orchestrator'\nmain()\n"

# Hard links fail as across filesystems: an existing name first (as link(2) checks it).
CROSS_DEVICE_LINKS = """
import errno, os, sys
def _link(src, dst, *args, **kwargs):
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, None, dst)
os.link = _link
"""

# Files whose name starts with "gone" are removed right after the keep step lists them.
VANISHING_FILES = """
import contextlib, os, sys
from codex_orchestrator.artifacts import keep
_listed = keep._walk
def _walk(top):
    entries = list(_listed(top))
    for path, _ in entries:
        if path.name.startswith("gone"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    yield from entries
keep._walk = _walk
"""


def start_patched(project: Path, patch: str, *args: str) -> tuple[int, dict[str, Any], RunFiles]:
    """``start ARGS --format json`` with ``patch`` applied in the runner's process."""
    result = subprocess.run(
        [sys.executable, "-c", patch + MAIN, "start", *args, "--format", "json"],
        cwd=project,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document = json.loads(result.stdout)
    assert isinstance(document, dict), result.stderr
    return result.returncode, document, RunFiles(project, document["task_id"], document["run_id"])
