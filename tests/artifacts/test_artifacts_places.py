"""Where artifacts go: ARTIFACTS_DIR, live workspaces, and runs of older layouts."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import RunFiles, command, pipeline, run_cli_subprocess, start_json, write_config
from legacy.trees import LegacyTree

from .kept import cli_json, collect, get_bytes

LEGACY_RUN = "2025-10-18T18-26-16-689Z"


def test_artifacts_dir_moves_the_root(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        pipeline("p", command("make", 'echo moved > "$CODEX_ORCHESTRATOR_WORKSPACE/m.txt"')),
    )
    env = {"ARTIFACTS_DIR": "elsewhere"}
    result, _, run = start_json(tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "elsewhere" / "0101" / run.run_id
    assert run.manifest()["artifacts_path"] == f"elsewhere/0101/{run.run_id}"
    assert (root / "instances/01-make/workspace/m.txt").read_text() == "moved\n"
    assert not (run.run_dir / "artifacts").exists()
    objects = list((tmp_path / "elsewhere/.artifacts/objects").glob("*/*"))
    assert [p.stat().st_ino for p in objects] == [
        (root / "instances/01-make/workspace/m.txt").stat().st_ino
    ]
    # Readers follow the manifest, with or without the variable.
    assert get_bytes(tmp_path, run.run_id, "01-make/m.txt").stdout == b"moved\n"
    rows = cli_json(tmp_path, "artifacts", "ls", "--run", run.run_id)
    assert [(r["path"], r["sha256"]) for r in rows] == [
        ("m.txt", hashlib.sha256(b"moved\n").hexdigest())
    ]
    # Search finds the moved run (noted for the index at its end).
    hits = cli_json(tmp_path, "artifacts", "search", "moved")
    assert [(h["run_id"], h["path"]) for h in hits] == [(run.run_id, "m.txt")]


def test_ls_shows_a_running_stage_files_as_live(tmp_path: Path) -> None:
    stage = command("slow", 'echo draft > "$CODEX_ORCHESTRATOR_WORKSPACE/draft.txt"; sleep 30')
    write_config(tmp_path, pipeline("p", command("first", "true"), stage))
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        drafts: list[Path] = []
        while time.monotonic() < deadline and not drafts:
            drafts = list(
                (tmp_path / ".runs").glob(
                    "0101/cli/*/artifacts/instances/02-slow/workspace/draft.txt"
                )
            )
            time.sleep(0.1)
        assert drafts
        run_id = drafts[0].parents[4].name
        rows = cli_json(tmp_path, "artifacts", "ls", "--run", run_id)
        assert [(r["instance"], r["path"], r["mode"]) for r in rows] == [
            ("02-slow", "draft.txt", "live")
        ]
        # Collecting a live run leaves the running stage's workspace live.
        document = cli_json(tmp_path, "artifacts", "collect", "--run", run_id)
        assert [i["status"] for i in document["metadata"]["instances"]] == ["succeeded", "running"]
        rows = cli_json(tmp_path, "artifacts", "ls", "--run", run_id)
        assert [(r["path"], r["mode"]) for r in rows] == [("draft.txt", "live")]
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=30)


def test_collect_reads_legacy_runs_and_never_rewrites_them(tmp_path: Path) -> None:
    tree = LegacyTree(tmp_path)
    run_dir = tree.agents_sdk_run("0001", LEGACY_RUN, status="failed")
    before = (run_dir / "manifest.json").read_bytes()
    document = collect(tmp_path, LEGACY_RUN)
    assert document["status"] == "success"
    assert document["instances_count"] == 2
    assert document["artifacts_path"] == f".runs/.artifacts/runs/0001/{LEGACY_RUN}"
    statuses = [(i["instance_id"], i["status"]) for i in document["metadata"]["instances"]]
    assert statuses == [("01-command-1", "succeeded"), ("02-command-2", "failed")]
    assert (run_dir / "manifest.json").read_bytes() == before
    assert not (run_dir / "artifacts").exists()
    migrated = run_cli_subprocess(tmp_path, "migrate", "--task", "0001")
    assert migrated.returncode == 0, migrated.stderr
    run = RunFiles(tmp_path, "0001", LEGACY_RUN)
    manifest_before = run.manifest_path.read_bytes()
    document = collect(tmp_path, LEGACY_RUN)
    assert document["artifacts_path"] == f".runs/0001/cli/{LEGACY_RUN}/artifacts"
    assert document["instances_count"] == 2
    assert run.manifest_path.read_bytes() == manifest_before
    shown = cli_json(tmp_path, "artifacts", "show", "--run", LEGACY_RUN)
    assert shown["status"] == "failed"
