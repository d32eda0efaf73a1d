"""Keeping when the filesystem does not cooperate: no hard links, files vanishing mid-keep."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

import pytest
from helpers import RunFiles, command, pipeline, run_cli_subprocess, start_json, subpipeline
from helpers import write_config as write

from .kept import artifacts_dir, cli_json, collect, get_bytes, index_files, instance_dir, read
from .patched import CROSS_DEVICE_LINKS, VANISHING_FILES, start_patched

pytestmark = pytest.mark.integration

PAYLOAD_SIZE = 3 * 1024 * 1024 + 17


def _objects(project: Path) -> list[Path]:
    """Every object of the store (``.runs/.artifacts/objects/<sha[:2]>/<sha>-<mode>``)."""
    return sorted(p for p in (project / ".runs/.artifacts/objects").glob("*/*") if p.is_file())


def _kept(run: RunFiles) -> list[Path]:
    return [
        instance_dir(run, "01-copy") / "workspace/copy.bin",
        instance_dir(run, "02-glob") / "workspace/payload.bin",
        instance_dir(run, "03-nested", "01-inner") / "workspace/inner.bin",
    ]


def test_without_hard_links_kept_files_are_plain_copies(tmp_path: Path) -> None:
    payload = os.urandom(PAYLOAD_SIZE)
    (tmp_path / "payload.bin").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    write(
        tmp_path,
        pipeline(
            "p",
            command("copy", 'cp payload.bin "$CODEX_ORCHESTRATOR_WORKSPACE/copy.bin"'),
            command("glob", "true", artifacts=["payload.bin"]),
            subpipeline("nested", "child"),
        ),
        pipeline(
            "child", command("inner", 'cp payload.bin "$CODEX_ORCHESTRATOR_WORKSPACE/inner.bin"')
        ),
    )
    # 1. No object can be linked: every kept file stays a read-only copy, nothing is lost.
    code, document, first = start_patched(tmp_path, CROSS_DEVICE_LINKS)
    assert code == 0
    assert document["status"] == "succeeded"
    assert _objects(tmp_path) == []
    for path in _kept(first):
        assert path.read_bytes() == payload
        info = path.stat()
        assert info.st_nlink == 1
        assert stat.S_IMODE(info.st_mode) & 0o222 == 0  # read-only all the same
    assert len({path.stat().st_ino for path in _kept(first)}) == 3
    rows = index_files(first)
    assert rows[("01-copy", "copy.bin")]["sha256"] == digest
    assert rows[("02-glob", "payload.bin")]["size"] == PAYLOAD_SIZE
    assert read(artifacts_dir(first) / "metadata.json")["partial"] is False
    assert get_bytes(tmp_path, first.run_id, "03-nested/01-inner/inner.bin").stdout == payload
    # 2. Links work again: the content becomes one object shared by the kept files.
    result, _, second = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    objects = _objects(tmp_path)
    assert [p.name.split("-")[0] for p in objects] == [digest]
    assert (instance_dir(second, "01-copy") / "workspace/copy.bin").stat().st_nlink > 1
    # 3. The object exists but cannot be linked to: copies again, the object is untouched.
    links_before = objects[0].stat().st_nlink
    code, _, third = start_patched(tmp_path, CROSS_DEVICE_LINKS)
    assert code == 0
    for path in _kept(third):
        assert path.read_bytes() == payload
        assert path.stat().st_nlink == 1
    assert objects[0].stat().st_nlink == links_before
    assert collect(tmp_path, third.run_id)["status"] == "success"


VANISH = (
    'W="$CODEX_ORCHESTRATOR_WORKSPACE"; echo kept > "$W/kept.txt"; echo gone > "$W/gone.txt"; '
    'ln -s kept.txt "$W/gone-link"; mkdir -p build/sub; echo b > build/sub/b.txt; '
    "echo g > build/sub/gone-too.txt; ln -s b.txt build/sub/gone-link; exit 5"
)


def test_files_vanishing_while_kept_leave_the_rest_kept(tmp_path: Path) -> None:
    write(
        tmp_path,
        pipeline(
            "p",
            command("make", VANISH, artifacts=["build"], allowFailure=True),
            command("after", 'echo later > "$CODEX_ORCHESTRATOR_WORKSPACE/later.txt"'),
        ),
    )
    code, _, run = start_patched(tmp_path, VANISHING_FILES)
    # The run goes on: the next stage ran and kept its file.
    assert code == 0
    assert [c["status"] for c in run.manifest()["commands"]] == ["skipped", "succeeded"]
    assert get_bytes(tmp_path, run.run_id, "02-after/later.txt").stdout == b"later\n"
    metadata = read(instance_dir(run, "01-make") / "metadata.json")
    assert metadata["partial"] is True
    problems = sorted((e["path"], e["kind"]) for e in metadata["errors"])
    assert problems == [
        ("build/sub/gone-link", "vanished"),
        ("build/sub/gone-too.txt", "vanished"),
        ("gone-link", "vanished"),
        ("gone.txt", "vanished"),
    ]
    assert set(index_files(run)) == {
        ("01-make", "kept.txt"),
        ("01-make", "build/sub/b.txt"),
        ("02-after", "later.txt"),
    }
    assert metadata["files"] == 2
    assert read(artifacts_dir(run) / "metadata.json")["partial"] is True
    rows = cli_json(tmp_path, "artifacts", "ls", "--run", run.run_id, "--instance", "01-make")
    assert {row["path"] for row in rows} == {"kept.txt", "build/sub/b.txt"}
    shown = run_cli_subprocess(tmp_path, "artifacts", "show", "--run", run.run_id)
    assert "gone.txt (vanished)" in shown.stdout
    # Collecting again says the same: partial, the problems still recorded.
    collected = collect(tmp_path, run.run_id)
    assert collected["status"] == "partial"
    assert collected["metadata"]["partial"] is True


def test_a_glob_match_vanishing_after_the_glob_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glob as real_glob
    from types import SimpleNamespace

    from codex_orchestrator.artifacts import keep
    from codex_orchestrator.artifacts.objects import ObjectStore

    def matches_then_remove(pattern: str, *, root_dir: Path, recursive: bool) -> list[str]:
        found = real_glob.glob(pattern, root_dir=root_dir, recursive=recursive)
        for name in found:
            if Path(name).name.startswith("gone"):
                (tmp_path / "cwd" / name).unlink()
        return list(found)

    monkeypatch.setattr(
        keep, "glob", SimpleNamespace(glob=matches_then_remove, escape=real_glob.escape)
    )
    cwd = tmp_path / "cwd"
    (cwd / "logs").mkdir(parents=True)
    for name in ("a.log", "gone.log"):
        (cwd / "logs" / name).write_text(name)
    workspace = tmp_path / "instance" / "workspace"
    store = ObjectStore(tmp_path / "objects")
    kept = keep.keep_stage(store, "01-x", workspace, cwd, ["logs/*.log"])
    assert [f.path for f in kept.files] == ["logs/a.log"]
    assert [(p.path, p.kind) for p in kept.errors] == [("logs/gone.log", "vanished")]
    assert kept.partial is True
    assert (workspace / "logs/a.log").read_text() == "a.log"


# Bound by a relative name: the workspace's absolute path may exceed AF_UNIX's 108 bytes.
SOCKET = (
    "import os, socket; os.chdir(os.environ['CODEX_ORCHESTRATOR_WORKSPACE']); "
    "s = socket.socket(socket.AF_UNIX); s.bind('listen.sock'); "
    "open('beside.txt', 'w').write('beside')"
)


def test_a_socket_in_the_workspace_is_recorded_not_kept(tmp_path: Path) -> None:
    (tmp_path / "sock.py").write_text(SOCKET)
    write(tmp_path, pipeline("p", command("serve", f"{sys.executable} sock.py")))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    metadata = read(instance_dir(run, "01-serve") / "metadata.json")
    assert metadata["partial"] is True
    assert [(e["path"], e["kind"], e["message"]) for e in metadata["errors"]] == [
        ("listen.sock", "special", "a socket is not kept")
    ]
    assert set(index_files(run)) == {("01-serve", "beside.txt")}
    assert not os.path.lexists(instance_dir(run, "01-serve") / "workspace/listen.sock")
