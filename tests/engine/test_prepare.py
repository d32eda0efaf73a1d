"""Stage files made ahead (engine/prepare.py): used when ready, never left behind."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from helpers import (
    command,
    json_document,
    output_bytes,
    pipeline,
    run_cli_subprocess,
    start_json,
    write_config,
)

from codex_orchestrator.engine.prepare import Order, Preparer
from codex_orchestrator.store.events import stage_file, staged_name


def _leftovers(run_dir: Path) -> list[str]:
    """Anything made ahead that is still there: hidden staged names, the staging dir."""
    return sorted(
        str(path.relative_to(run_dir))
        for path in run_dir.rglob("*")
        if path.name.endswith(".staged") or path.name == ".staging"
    )


def _wait_ready(preparer: Preparer, index: int) -> None:
    deadline = time.monotonic() + 10
    while not preparer.ready(index):
        assert time.monotonic() < deadline, "the helper never made the files"
        time.sleep(0.01)


def _order(tmp_path: Path, index: int) -> Order:
    commands = tmp_path / "commands"
    commands.mkdir(exist_ok=True)
    return Order(
        index=index,
        command_log=commands / f"{index:02d}-s.ndjson",
        staging=tmp_path / "artifacts" / ".staging" / f"{index:02d}-s",
    )


def test_files_are_made_after_a_command_starts_and_taken_by_index(tmp_path: Path) -> None:
    """Nothing is made before ``go`` (a spawn is not slowed down); then everything is,
    under hidden names; taking one leaves the others to ``close``, which removes them."""
    preparer = Preparer()
    first, second = _order(tmp_path, 1), _order(tmp_path, 2)
    preparer.ahead([first, second])
    time.sleep(0.05)
    assert not staged_name(first.command_log).exists()
    preparer.go()
    _wait_ready(preparer, 1)
    _wait_ready(preparer, 2)
    prepared = preparer.take(1)
    assert prepared is not None
    assert prepared.command is not None
    assert prepared.instance is not None
    assert prepared.command.path == staged_name(first.command_log)
    assert prepared.command.path.is_file()
    assert stat.S_IMODE((prepared.instance.dir / "workspace").stat().st_mode) == 0o700
    assert (prepared.instance.dir / "output.log").read_bytes() == b""
    assert preparer.take(1) is None  # taken once
    prepared.discard()  # as a stage that used them would have moved them
    preparer.close()
    assert not second.staging.exists()  # never taken: removed
    assert not staged_name(second.command_log).exists()
    assert not (tmp_path / "artifacts" / ".staging").exists()
    assert sorted(os.listdir(tmp_path / "commands")) == []


def test_a_stage_taken_before_its_files_are_made_makes_its_own(tmp_path: Path) -> None:
    """``take`` never waits: not ready means None, and the helper then skips the stage."""
    preparer = Preparer()
    order = _order(tmp_path, 1)
    preparer.ahead([order])
    assert preparer.take(1) is None
    preparer.go()
    preparer.close()
    assert not order.staging.exists()
    assert not staged_name(order.command_log).exists()


def test_without_a_helper_go_makes_the_files_on_the_calling_thread(tmp_path: Path) -> None:
    """A linear pipeline's driver makes them itself: nothing before ``go``, everything
    asked for ready when ``go`` returns, no thread started, and ``close`` removes
    what was not taken."""
    before = threading.active_count()
    preparer = Preparer(threaded=False)
    first, second = _order(tmp_path, 1), _order(tmp_path, 2)
    preparer.ahead([first, second])
    assert not staged_name(first.command_log).exists()
    preparer.go()
    assert preparer.ready(1)
    assert preparer.ready(2)
    assert threading.active_count() == before
    prepared = preparer.take(1)
    assert prepared is not None
    assert prepared.command is not None
    assert prepared.command.path.is_file()
    prepared.discard()
    preparer.ahead([_order(tmp_path, 3)])
    assert preparer.take(3) is None  # not made yet: the stage makes its own
    preparer.go()
    assert not preparer.ready(3)
    preparer.close()
    assert not second.staging.exists()
    assert not (tmp_path / "artifacts" / ".staging").exists()
    assert sorted(os.listdir(tmp_path / "commands")) == []


def test_a_staged_event_file_never_replaces_an_existing_one(tmp_path: Path) -> None:
    """A resumed stage appends to its earlier event file: the staged one is dropped."""
    target = tmp_path / "01-s.ndjson"
    target.write_bytes(b'{"type":"command:start"}\n')
    staged = stage_file(target)
    assert staged.claim(target) is None
    assert not staged.path.exists()
    assert target.read_bytes() == b'{"type":"command:start"}\n'
    fresh = stage_file(tmp_path / "02-s.ndjson")
    fd = fresh.claim(tmp_path / "02-s.ndjson")
    assert fd is not None
    os.write(fd, b"x\n")
    os.close(fd)
    assert (tmp_path / "02-s.ndjson").read_bytes() == b"x\n"
    assert not fresh.path.exists()


@pytest.mark.integration
def test_a_run_uses_them_and_leaves_none_behind(tmp_path: Path) -> None:
    """Every stage's files are where the layout says, with the right content, and
    nothing made ahead remains, also for the stages a failure kept from running."""
    stages = [
        command(f"s{n}", f"printf 'out {n}\\n'; echo kept > \"$CODEX_ORCHESTRATOR_WORKSPACE/f\"")
        for n in range(1, 4)
    ]
    stages.append(command("fails", "echo boom >&2; exit 3"))
    stages += [command(f"after{n}", "echo never") for n in range(1, 4)]
    write_config(tmp_path, pipeline("p", *stages))

    result, document, run = start_json(tmp_path, "p")

    assert result.returncode == 1
    assert document["status"] == "failed"
    artifacts = run.run_dir / "artifacts"
    assert sorted(os.listdir(artifacts / "instances")) == ["01-s1", "02-s2", "03-s3", "04-fails"]
    assert sorted(os.listdir(run.run_dir / "commands")) == [
        "01-s1.ndjson",
        "02-s2.ndjson",
        "03-s3.ndjson",
        "04-fails.ndjson",
    ]
    assert _leftovers(run.run_dir) == []
    for n in range(1, 4):
        instance = artifacts / "instances" / f"0{n}-s{n}"
        assert (instance / "output.log").read_bytes() == f"out {n}\n".encode()
        assert (instance / "workspace" / "f").read_bytes() == b"kept\n"
        assert (instance / "metadata.json").is_file()
        events = run.command_events(f"0{n}-s{n}")
        assert output_bytes(events, "stdout") == f"out {n}\n".encode()
    assert (artifacts / "instances" / "04-fails" / "output.log").read_bytes() == b"boom\n"


@pytest.mark.integration
def test_resume_appends_to_the_failed_stage_event_file(tmp_path: Path) -> None:
    """The re-run stage's events follow its first attempt's in the same file."""
    flag = tmp_path / "fixed"
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("a", "echo a"),
            command("b", f"test -e {flag} || exit 4; echo b"),
            command("c", "echo c"),
        ),
    )
    result, _, run = start_json(tmp_path, "p")
    assert result.returncode == 1
    flag.write_text("")

    resumed = run_cli_subprocess(tmp_path, "resume", "--run", run.run_id, "--format", "json")

    assert resumed.returncode == 0, resumed.stderr
    assert json_document(resumed)["status"] == "succeeded"
    starts = [e for e in run.command_events("02-b") if e["type"] == "command:start"]
    assert len(starts) == 2
    assert output_bytes(run.command_events("03-c"), "stdout") == b"c\n"
    assert _leftovers(run.run_dir) == []
