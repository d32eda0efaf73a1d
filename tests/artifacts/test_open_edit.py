"""Handing live files to an editor or opener: the argument arrives, nobody waits."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from codex_orchestrator.artifacts.live import editor_argv, hand_over, live_target
from codex_orchestrator.errors import InvalidInput

GENEROUS_SECONDS = 30


def stand_in_editor(directory: Path) -> tuple[Path, Path]:
    """A script that records its arguments, then stays open like an editor would."""
    received = directory / "received.txt"
    script = directory / "fake-editor"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{received}.tmp"\n'
        f'mv "{received}.tmp" "{received}"\n'
        "exec sleep 60\n"
    )
    script.chmod(0o755)
    return script, received


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + GENEROUS_SECONDS
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def _end(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    (ws / "reports").mkdir(parents=True)
    (ws / "reports" / "draft.md").write_text("# draft\n")
    return ws


def test_edit_hands_the_file_to_visual_and_does_not_wait(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, received = stand_in_editor(tmp_path)
    monkeypatch.setenv("VISUAL", f"{script} --new-window")
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    target = live_target(
        workspace, "reports/draft.md", name="01-a/reports/draft.md", live=True, edit=True
    )
    handed = hand_over("01-a/reports/draft.md", target, edit=True)
    try:
        assert psutil.Process(handed.pid).is_running()  # returned while the editor runs
        assert _wait_for(received).splitlines() == ["--new-window", str(target)]
        assert handed.to_dict()["command"] == [str(script), "--new-window", str(target)]
        assert os.getsid(handed.pid) == handed.pid  # its own session: our terminal stays ours
    finally:
        _end(handed.pid)


def test_open_uses_the_platform_opener(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, received = stand_in_editor(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "xdg-open").symlink_to(script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = live_target(workspace, "reports/draft.md", name="x", live=False, edit=False)
    handed = hand_over("x", target, edit=False)
    try:
        assert _wait_for(received).splitlines() == [str(target)]
        assert handed.argv[0] == "xdg-open"
    finally:
        _end(handed.pid)


def test_edit_refuses_files_that_are_not_live(workspace: Path) -> None:
    with pytest.raises(InvalidInput, match="is not live"):
        live_target(
            workspace, "reports/draft.md", name="01-a/reports/draft.md", live=False, edit=True
        )


def test_sealed_missing_and_hostile_names_are_refused(workspace: Path, tmp_path: Path) -> None:
    (workspace / "secret.txt.age").write_bytes(b"age-encryption.org/v1\n")
    (workspace / "out").symlink_to(tmp_path)
    (tmp_path / "elsewhere.txt").write_text("not yours")
    cases = {
        "secret.txt": "is sealed",
        "nope.txt": "no such file",
        "../workspace/reports/draft.md": "'..' is not allowed",
        "/etc/passwd": "absolute paths",
        "out/elsewhere.txt": "leads outside the workspace",
        "reports": "not a regular file",
    }
    for name, message in cases.items():
        with pytest.raises(InvalidInput, match=message):
            live_target(workspace, name, name=name, live=True, edit=True)


def test_an_editor_must_be_configured_and_exist(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    with pytest.raises(InvalidInput, match=r"set \$VISUAL or \$EDITOR"):
        editor_argv()
    monkeypatch.setenv("EDITOR", "no-such-editor-anywhere -w")
    with pytest.raises(InvalidInput, match="cannot start 'no-such-editor-anywhere': not found"):
        hand_over("x", workspace / "reports" / "draft.md", edit=True)
