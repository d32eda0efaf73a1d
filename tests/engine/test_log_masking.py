"""Secret values from the runner's environment never reach a file under .runs, or the terminal."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import helpers

LEAKED = "tok-9Zq2-SECRET-0123456789abcdef"  # the value a careless stage prints
SPLIT = (
    "import sys, time, os; v = os.environ['DEPLOY_TOKEN']; "
    "sys.stdout.write('split=' + v[:11]); sys.stdout.flush(); time.sleep(0.4); "
    "sys.stdout.write(v[11:] + ' end\\n'); sys.stdout.flush()"
)


def files_containing(root: Path, needle: bytes) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes()
    ]


def test_a_secret_printed_whole_split_or_in_the_command_is_masked_everywhere(
    tmp_path: Path,
) -> None:
    python = shlex.quote(sys.executable)
    helpers.write_config(
        tmp_path,
        helpers.pipeline(
            "leaky",
            helpers.command(
                "whole",
                'echo "token is $DEPLOY_TOKEN"; echo "$DB_PASSWORD" >&2; echo "short $SHORT_TOKEN"',
            ),
            helpers.command("split", f"{python} -c {shlex.quote(SPLIT)}"),
            helpers.command("literal", f"echo {LEAKED} >&2; exit 3"),
        ),
    )
    env = {"DEPLOY_TOKEN": LEAKED, "DB_PASSWORD": "pw-123456-xyz", "SHORT_TOKEN": "abc12"}

    for fmt in ("json", "text"):
        result = helpers.run_cli_subprocess(tmp_path, "start", "--format", fmt, env=env)
        assert result.returncode == 1, result.stderr
        assert LEAKED not in result.stdout + result.stderr
        assert "pw-123456-xyz" not in result.stdout + result.stderr

    runs = tmp_path / ".runs"
    assert files_containing(runs, LEAKED.encode()) == []
    assert files_containing(runs, LEAKED[:11].encode()) == []  # not even the split half
    assert files_containing(runs, b"pw-123456-xyz") == []
    log = b"".join(path.read_bytes() for path in runs.rglob("runner.ndjson"))
    assert b"token is ***" in log
    assert b"split=*** end" in log
    assert b"echo *** >&2; exit 3" in log  # the command text, as recorded
    errors = b"".join(path.read_bytes() for path in runs.rglob("errors/*.json"))
    assert b"***" in errors
    assert b"short abc12" in log  # 5 characters: below the masking floor, shown as is


def test_mask_env_patterns_come_from_the_config(tmp_path: Path) -> None:
    config = helpers.write_config(
        tmp_path,
        helpers.pipeline("p", helpers.command("show", 'echo "v=$MY_CREDENTIAL $API_TOKEN"')),
    )
    document = json.loads(config.read_text())
    document["secrets"] = {"maskEnv": ["*CREDENTIAL*"]}
    config.write_text(json.dumps(document))
    env = {"MY_CREDENTIAL": "cred-998877", "API_TOKEN": "shown-112233"}
    result = helpers.run_cli_subprocess(tmp_path, "start", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    log = b"".join(path.read_bytes() for path in (tmp_path / ".runs").rglob("runner.ndjson"))
    assert b"v=*** shown-112233" in log
