"""``serve`` and ``mcp`` as commands: lazy imports, and a clear error without the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

HEAVY = ("fastapi", "uvicorn", "mcp", "starlette", "pydantic")

# Runs the CLI in-process, then reports which heavy modules got imported.
PROBE = """
import sys, json
from codex_orchestrator.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted({name.split('.')[0] for name in sys.modules} & set(json.loads(%r)))
sys.stderr.write('\\nIMPORTED=' + json.dumps(heavy) + '\\n')
"""

# Makes the server extra look uninstalled: importing any of it fails as it would.
WITHOUT_EXTRA = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('fastapi', 'uvicorn', 'mcp'):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Missing())
from codex_orchestrator.cli.app import main
main(sys.argv[1:])
"""


def imported_by(tmp_path: Path, *args: str) -> list[str]:
    """The heavy modules a CLI invocation imports."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE % orjson.dumps(list(HEAVY)).decode(), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    marker = result.stderr.rsplit("IMPORTED=", 1)
    assert len(marker) == 2, result.stderr
    return list(orjson.loads(marker[1]))


@pytest.mark.parametrize(
    "args",
    [("--help",), ("status", "--latest"), ("runs",), ("serve", "--help"), ("mcp", "--help")],
)
def test_other_commands_do_not_import_the_server(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Help, status and runs start without FastAPI, uvicorn, the MCP SDK or pydantic."""
    assert imported_by(tmp_path, *args) == []


@pytest.mark.parametrize("command", ["serve", "mcp"])
def test_without_the_extra_one_line_names_the_pip_command(tmp_path: Path, command: str) -> None:
    """Exit 2 and one line naming what to install, no traceback."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"codex-orchestrator: error: {command} needs the server extra")
    assert lines[0].endswith("pip install 'codex-orchestrator[server]'")
