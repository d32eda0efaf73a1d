"""Live workspaces of a running run, seen from other processes: watch, ls, open, edit."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import command, one_error_line, pipeline, run_cli_subprocess, write_config

GENEROUS_SECONDS = 60
# Waits for a "go" file, then writes for about two seconds.
WRITER = (
    'W="$CODEX_ORCHESTRATOR_WORKSPACE"; '
    "while [ ! -f go ]; do sleep 0.05; done; "
    'for i in 1 2 3 4; do echo "line $i" >> "$W/report.md"; sleep 0.5; done; '
    'mkdir -p "$W/sub"; echo done > "$W/sub/final.txt"; '
    "while [ ! -f stop ]; do sleep 0.05; done"
)


def _cli(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + GENEROUS_SECONDS
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, str, subprocess.Popen[str]]]:
    """A project whose one stage is running (waiting for ``go``); its run id."""
    write_config(tmp_path, pipeline("p", command("write", WRITER)))
    runner = _cli(tmp_path, "start", "--format", "json")
    workspaces = tmp_path / ".runs" / "0101" / "cli"
    _wait(lambda: list(workspaces.glob("*/artifacts/instances/01-write/workspace")), "the stage")
    run_id = next(workspaces.iterdir()).name
    try:
        yield tmp_path, run_id, runner
    finally:
        (tmp_path / "go").touch()
        (tmp_path / "stop").touch()
        runner.communicate(timeout=GENEROUS_SECONDS)


def _ls(project: Path, run_id: str) -> dict[str, dict[str, object]]:
    result = run_cli_subprocess(project, "artifacts", "ls", "--run", run_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    return {row["path"]: row for row in json.loads(result.stdout)}


@pytest.mark.slow
def test_watch_and_ls_follow_a_stage_writing_for_two_seconds(
    running: tuple[Path, str, subprocess.Popen[str]],
) -> None:
    project, run_id, runner = running
    workspace = project / ".runs" / "0101" / "cli" / run_id / "artifacts" / "instances"
    workspace = workspace / "01-write" / "workspace"
    assert stat.S_IMODE(workspace.stat().st_mode) == 0o700
    watcher = _cli(project, "artifacts", "watch", "--run", run_id, "--format", "json")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(watcher.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    written = 0  # a probe rewritten until the watch reports it: from then on it sees all
    while not any('"probe.txt"' in line for line in lines):
        assert watcher.poll() is None, watcher.communicate()
        assert written < 10 * GENEROUS_SECONDS, "the watch never reported the probe"
        written += 1
        (workspace / "probe.txt").write_text("x" * written)
        time.sleep(0.1)
    (project / "go").touch()
    _wait((workspace / "sub" / "final.txt").exists, "the last file")
    live = _ls(project, run_id)
    assert live["report.md"]["mode"] == "live"
    assert live["report.md"]["size"] == len("line 1\nline 2\nline 3\nline 4\n")
    assert str(live["report.md"]["modified"]).endswith("Z")
    assert live["sub/final.txt"]["mode"] == "live"
    (project / "stop").touch()
    _out, err = runner.communicate(timeout=GENEROUS_SECONDS)
    assert runner.returncode == 0, err
    watcher.wait(timeout=GENEROUS_SECONDS)
    reader.join(GENEROUS_SECONDS)
    watch_err = watcher.stderr.read()  # type: ignore[union-attr]
    watcher.stdout.close()  # type: ignore[union-attr]
    watcher.stderr.close()  # type: ignore[union-attr]
    assert watcher.returncode == 0, watch_err
    events = [json.loads(line) for line in lines]
    events = [e for e in events if e["path"] != "probe.txt"]
    assert all(set(e) == {"type", "instance", "path", "size", "timestamp"} for e in events)
    assert {e["instance"] for e in events} == {"01-write"}
    report = [e for e in events if e["path"] == "report.md"]
    assert report[0]["type"] == "added"
    assert 1 <= len(report) <= 4  # four appends half a second apart
    assert report[-1]["size"] == len("line 1\nline 2\nline 3\nline 4\n")
    assert [(e["type"], e["size"]) for e in events if e["path"] == "sub/final.txt"] == [
        ("added", 5)
    ]
    assert {row["mode"] for row in _ls(project, run_id).values()} == {"archived"}


def _stand_in_editor(directory: Path) -> tuple[Path, Path]:
    received = directory / "received.txt"
    script = directory / "fake-editor"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{received}.tmp"\n'
        f'mv "{received}.tmp" "{received}"\n'
        "exec sleep 30\n"
    )
    script.chmod(0o755)
    return script, received


def test_edit_and_open_hand_live_files_over_without_waiting(
    running: tuple[Path, str, subprocess.Popen[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    project, run_id, runner = running
    tools = tmp_path_factory.mktemp("tools")
    script, received = _stand_in_editor(tools)
    (tools / "xdg-open").symlink_to(script)
    workspace = instance_dir_of(project, run_id) / "workspace"
    (workspace / "draft.md").write_text("# fix me\n")
    env = {"VISUAL": str(script), "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    edit = ("artifacts", "edit", "--run", run_id, "01-write/draft.md", "--format", "json")
    result = run_cli_subprocess(project, *edit, env=env)  # returns while the editor sleeps
    assert result.returncode == 0, result.stderr
    handed = json.loads(result.stdout)
    _wait(received.exists, "the editor's arguments")
    assert received.read_text().splitlines() == [str((workspace / "draft.md").resolve())]
    os.kill(handed["pid"], 9)
    received.unlink()
    opened = run_cli_subprocess(
        project, "artifacts", "open", "--run", run_id, "01-write/draft.md", env=env
    )
    assert opened.returncode == 0, opened.stderr
    _wait(received.exists, "the opener's arguments")
    (workspace / "etc").symlink_to("/etc")
    for hostile, reason in {
        "01-write/../../../../../etc/passwd": "'..' is not allowed",
        "/etc/passwd": "absolute paths are not allowed",
        "01-write/etc/passwd": "leads outside the workspace",
        "01-write/a\x01b": "no such file",
        "01-write/nope.md": "no such file",
    }.items():
        refused = run_cli_subprocess(
            project, "artifacts", "edit", "--run", run_id, hostile, env=env
        )
        assert refused.returncode == 2, hostile
        assert reason in one_error_line(refused)
    (project / "go").touch()
    (project / "stop").touch()
    runner.communicate(timeout=GENEROUS_SECONDS)
    late = run_cli_subprocess(
        project, "artifacts", "edit", "--run", run_id, "01-write/draft.md", env=env
    )
    assert late.returncode == 2
    assert "is not live" in one_error_line(late)


def instance_dir_of(project: Path, run_id: str) -> Path:
    """``instances/01-write`` of the run."""
    return project / ".runs" / "0101" / "cli" / run_id / "artifacts" / "instances" / "01-write"


def test_watch_of_a_run_whose_runner_died_exits_1_naming_resume(tmp_path: Path) -> None:
    import psutil

    write_config(tmp_path, pipeline("p", command("hang", "sleep 60")))
    runner = _cli(tmp_path, "start", "--format", "json")
    runs = tmp_path / ".runs" / "0101" / "cli"
    _wait(lambda: list(runs.glob("*/artifacts/instances/01-hang/workspace")), "the stage")
    tree = psutil.Process(runner.pid).children(recursive=True)
    runner.kill()
    runner.communicate(timeout=GENEROUS_SECONDS)
    # Its watchdog ends the stage, removes its state file and exits; only what it
    # missed is killed here (killing the watchdog as well would leave its file behind).
    _, alive = psutil.wait_procs(tree, timeout=GENEROUS_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    run_id = next(runs.iterdir()).name
    watched = run_cli_subprocess(tmp_path, "artifacts", "watch", "--run", run_id)
    assert watched.returncode == 1
    assert f"run {run_id} is lost" in one_error_line(watched)
    assert "resume --run" in watched.stderr
