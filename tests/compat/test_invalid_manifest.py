"""A manifest that is valid JSON but not a manifest is never overwritten by any command."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import command, one_error_line, pipeline, run_cli_subprocess, write_config

RUN_ID = "2025-10-31T22-56-34-431Z-9574035c"
BAD = b'{"status": 5, "commands": "x"}\n'


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("resume", "--run", RUN_ID), "status"),
        (("resume", "--run", RUN_ID, "--token", "ab" * 32), "status"),
        (("status", "--run", RUN_ID), "status"),
        (("start", "--parent-run", RUN_ID), "status"),
    ],
)
def test_invalid_manifest_is_refused_and_left_as_it_is(
    tmp_path: Path, args: tuple[str, ...], field: str
) -> None:
    write_config(tmp_path, pipeline("ci", command("a", "true")))
    run_dir = tmp_path / ".runs" / "0101" / "cli" / RUN_ID
    run_dir.mkdir(parents=True)
    manifest = run_dir / "manifest.json"
    manifest.write_bytes(BAD)

    result = run_cli_subprocess(tmp_path, *args)

    assert result.returncode == 2, result.stderr
    message = one_error_line(result)
    assert str(manifest) in message
    assert f"{field}: expected one of" in message
    assert manifest.read_bytes() == BAD
    assert sorted(p.name for p in run_dir.iterdir() if not p.name.endswith(".lock")) == [
        "manifest.json"
    ]


@pytest.mark.integration
def test_commands_that_are_not_a_list_are_named(tmp_path: Path) -> None:
    run_dir = tmp_path / ".runs" / "0101" / "cli" / RUN_ID
    run_dir.mkdir(parents=True)
    bad = b'{"status": "failed", "run_id": "r", "task_id": "0101", "pipeline_id": "p", '
    bad += b'"commands": "x"}'
    (run_dir / "manifest.json").write_bytes(bad)

    result = run_cli_subprocess(tmp_path, "resume", "--run", RUN_ID)

    assert result.returncode == 2
    assert "commands: expected a list, found 'x'" in one_error_line(result)
    assert (run_dir / "manifest.json").read_bytes() == bad
