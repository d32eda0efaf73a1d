"""Projects whose runs seal their kept files, and looking for plaintext left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import command, pipeline

from .keys import KeyPair

SECRET = b"s3cret-token-4fj29-zz81"
WRITE_COMMAND = (
    'W="$CODEX_ORCHESTRATOR_WORKSPACE"; mkdir -p "$W/nested"; '
    'cp secret-source.txt "$W/secret.txt"; '
    'head -c 200000 /dev/urandom > "$W/nested/blob.bin"; '
    'printf "report of the run\\n" > "$W/report.md"'
)


def write_sealing_config(
    project: Path, *stages: dict[str, Any], seal: dict[str, Any] | None
) -> None:
    """``codex.orchestrator.json`` with pipeline ``p`` and, when given, ``artifacts.seal``."""
    (project / "secret-source.txt").write_bytes(SECRET + b"\n")  # not in the command line
    document: dict[str, Any] = {"defaultPipeline": "p", "pipelines": [pipeline("p", *stages)]}
    if seal is not None:
        document["artifacts"] = {"seal": seal}
    (project / "codex.orchestrator.json").write_text(json.dumps(document, indent=2))


def secret_stage(stage_id: str = "make", extra: str = "") -> dict[str, Any]:
    """A stage writing a secret, a binary blob and a report into its workspace."""
    return command(stage_id, WRITE_COMMAND + extra)


def files_holding(root: Path, needle: bytes) -> list[str]:
    """Every file below ``root`` whose bytes contain ``needle`` (links not followed)."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_symlink():
                continue
            if needle in path.read_bytes():
                found.append(str(path.relative_to(root)))
    return found


def cli(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real CLI, bytes captured."""
    return subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def seal_config(keys: KeyPair, **extra: Any) -> dict[str, Any]:
    """``artifacts.seal`` for one age recipient."""
    return {"recipients": [keys.recipient], **extra}
