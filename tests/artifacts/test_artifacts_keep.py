"""Keeping after every stage: workspaces, globs, links, special files, output.log, dedup."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import command, pipeline, run_cli_subprocess, start_json, subpipeline, write_config

from .kept import artifacts_dir, get_bytes, index_files, instance_dir, read

BINARY_SCRIPT = r"""
import sys, time
out, err = sys.stdout.buffer, sys.stderr.buffer
out.write(bytes(range(256)) + b"\r\n\x00tail-without-newline"); out.flush(); time.sleep(0.3)
err.write(b"\xff\xfe stderr \x00\n"); err.flush(); time.sleep(0.3)
out.write(b"last\x80"); out.flush()
"""
EXPECTED_OUTPUT = (
    bytes(range(256)) + b"\r\n\x00tail-without-newline" + b"\xff\xfe stderr \x00\n" + b"last\x80"
)


def test_output_log_holds_the_exact_bytes_in_arrival_order(tmp_path: Path) -> None:
    (tmp_path / "emit.py").write_text(BINARY_SCRIPT)
    write_config(tmp_path, pipeline("p", command("emit", f"{sys.executable} emit.py")))
    result, document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    log = instance_dir(run, "01-emit") / "output.log"
    assert log.read_bytes() == EXPECTED_OUTPUT
    metadata = read(instance_dir(run, "01-emit") / "metadata.json")
    assert metadata["instance_id"] == "01-emit"
    assert metadata["status"] == "succeeded"
    assert metadata["exit_code"] == 0
    assert metadata["partial"] is False
    assert metadata["resources"]["peak_rss_bytes"] > 0
    manifest = run.manifest()
    assert manifest["artifacts_path"] == f".runs/0101/cli/{run.run_id}/artifacts"
    assert manifest["run_summary_path"] == f".runs/0101/cli/{run.run_id}/artifacts/summary.md"
    assert document["status"] == "succeeded"


KEEP_COMMAND = (
    'W="$CODEX_ORCHESTRATOR_WORKSPACE"; '
    'test -d "$W" && test -z "$(ls -A "$W")" && stat -c %a "$W" > mode.txt; '
    "mkdir -p build/a/b && printf 'deep' > build/a/b/deep.txt && printf 'top' > build/top.txt; "
    "printf 'skip' > build/a/b/skip.bin; "
    'printf \'#!/bin/sh\\necho hi\\n\' > "$W/run.sh" && chmod 755 "$W/run.sh"; '
    'mkdir -p "$W/sub" && printf \'report\' > "$W/sub/report.md"; '
    'ln -s ../run.sh "$W/sub/inside-link"; ln -s /etc/hostname "$W/outside-link"; '
    'ln -s ../../etc "$W/escape-link"; mkfifo "$W/pipe"; '
    "ln -s top.txt build/link-in-cwd"
)


def test_workspace_globs_links_and_fifos(tmp_path: Path) -> None:
    stage = command(
        "make", KEEP_COMMAND, artifacts=["build/**/*.txt", "build/link-in-cwd", "missing/*.log"]
    )
    write_config(tmp_path, pipeline("p", stage))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mode.txt").read_text().strip() == "700"
    workspace = instance_dir(run, "01-make") / "workspace"
    files = index_files(run)
    assert set(files) == {
        ("01-make", "run.sh"),
        ("01-make", "sub/report.md"),
        ("01-make", "sub/inside-link"),
        ("01-make", "build/a/b/deep.txt"),
        ("01-make", "build/top.txt"),
        ("01-make", "build/link-in-cwd"),
    }
    assert files[("01-make", "run.sh")]["permissions"] == "0755"
    assert files[("01-make", "build/top.txt")]["size"] == 3
    assert files[("01-make", "sub/inside-link")]["type"] == "symlink"
    assert os.readlink(workspace / "sub/inside-link") == "../run.sh"
    assert os.readlink(workspace / "build/link-in-cwd") == "top.txt"
    # Kept files are read-only; the executable bit survives.
    mode = stat.S_IMODE((workspace / "run.sh").stat().st_mode)
    assert mode == 0o555
    assert (workspace / "build/a/b/deep.txt").read_bytes() == b"deep"
    assert not (workspace / "build/a/b/skip.bin").exists()
    for gone in ("outside-link", "escape-link", "pipe"):
        assert not os.path.lexists(workspace / gone)
    metadata = read(instance_dir(run, "01-make") / "metadata.json")
    assert metadata["partial"] is True
    kinds = {(e["path"], e["kind"]) for e in metadata["errors"]}
    assert kinds == {
        ("outside-link", "link-outside"),
        ("escape-link", "link-outside"),
        ("pipe", "special"),
    }
    assert [w["path"] for w in metadata["warnings"]] == ["missing/*.log"]
    assert metadata["files"] == 6
    run_meta = read(artifacts_dir(run) / "metadata.json")
    assert run_meta["partial"] is True
    assert run_meta["status"] == "succeeded"
    assert run_meta["totals"]["instances"] == 1
    assert run_meta["totals"]["files"] == 6
    fetched = get_bytes(tmp_path, run.run_id, "01-make/sub/report.md")
    assert fetched.returncode == 0
    assert fetched.stdout == b"report"


def test_failed_and_timed_out_stages_keep_their_files(tmp_path: Path) -> None:
    failing = command(
        "fails", 'echo partial > "$CODEX_ORCHESTRATOR_WORKSPACE/f.txt"; echo oops >&2; exit 4'
    )
    slow = command(
        "slow",
        'echo started > "$CODEX_ORCHESTRATOR_WORKSPACE/t.txt"; echo waiting; sleep 30',
        timeoutMs=1500,
        allowFailure=False,
    )
    write_config(
        tmp_path,
        pipeline("a", failing),
        pipeline("b", slow),
    )
    result, _, run = start_json(tmp_path, "a")
    assert result.returncode == 1
    assert (instance_dir(run, "01-fails") / "workspace/f.txt").read_text() == "partial\n"
    assert (instance_dir(run, "01-fails") / "output.log").read_bytes() == b"oops\n"
    metadata = read(instance_dir(run, "01-fails") / "metadata.json")
    assert (metadata["status"], metadata["exit_code"]) == ("failed", 4)
    summary = (artifacts_dir(run) / "summary.md").read_text()
    assert "## Failures" in summary
    assert "oops" in summary
    result, _, run = start_json(tmp_path, "b")
    assert result.returncode == 1
    assert (instance_dir(run, "01-slow") / "workspace/t.txt").read_text() == "started\n"
    assert (instance_dir(run, "01-slow") / "output.log").read_bytes() == b"waiting\n"
    metadata = read(instance_dir(run, "01-slow") / "metadata.json")
    assert metadata["status"] == "failed"
    assert metadata["signal"] == "SIGTERM"


def test_subpipeline_children_nest_under_their_stage(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        pipeline(
            "parent",
            command("first", 'echo one > "$CODEX_ORCHESTRATOR_WORKSPACE/one.txt"'),
            subpipeline("checks", "child"),
        ),
        pipeline("child", command("inner", 'echo two > "$CODEX_ORCHESTRATOR_WORKSPACE/two.txt"')),
    )
    result, _, run = start_json(tmp_path, "parent")
    assert result.returncode == 0, result.stderr
    nested = instance_dir(run, "02-checks", "01-inner")
    assert (nested / "workspace/two.txt").read_text() == "two\n"
    metadata = read(artifacts_dir(run) / "metadata.json")
    ids = {(i["instance_id"], i["parent_instance_id"]) for i in metadata["instances"]}
    assert ids == {("01-first", None), ("02-checks", None), ("02-checks/01-inner", "02-checks")}
    assert ("02-checks/01-inner", "two.txt") in index_files(run)
    fetched = get_bytes(tmp_path, run.run_id, "02-checks/01-inner/two.txt")
    assert fetched.stdout == b"two\n"


def _du_kib(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def test_identical_files_are_stored_once_across_runs(tmp_path: Path) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(4 * 1024 * 1024))
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("a", 'cp payload.bin "$CODEX_ORCHESTRATOR_WORKSPACE/copy.bin"'),
            command("b", "true", artifacts=["payload.bin"]),
        ),
    )
    runs = [start_json(tmp_path)[2] for _ in range(2)]
    kept = [
        instance_dir(run, stem) / "workspace" / name
        for run in runs
        for stem, name in (("01-a", "copy.bin"), ("02-b", "payload.bin"))
    ]
    inodes = {path.stat().st_ino for path in kept}
    assert len(inodes) == 1
    assert kept[0].stat().st_nlink == 5  # four kept copies and the object
    # du counts a hard-linked file once: four 4 MiB copies take about 4 MiB.
    assert _du_kib(tmp_path / ".runs") < 6 * 1024


def test_concurrent_runs_keep_their_artifacts(tmp_path: Path) -> None:
    shared = 'printf shared > "$CODEX_ORCHESTRATOR_WORKSPACE/shared.txt"; '
    own = 'echo "$CODEX_ORCHESTRATOR_RUN_ID" > "$CODEX_ORCHESTRATOR_WORKSPACE/own.txt"; '
    write_config(tmp_path, pipeline("p", *(command(f"s{i}", shared + own) for i in range(4))))
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0]
    import json

    from helpers import RunFiles

    inodes = set()
    for out in outputs:
        run = RunFiles(tmp_path, "0101", json.loads(out)["run_id"])
        for i in range(4):
            workspace = instance_dir(run, f"{i + 1:02d}-s{i}") / "workspace"
            assert (workspace / "own.txt").read_text().strip() == run.run_id
            inodes.add((workspace / "shared.txt").stat().st_ino)
    assert len(inodes) == 1


@pytest.mark.skipif(shutil.which("setpriv") is None and os.geteuid() == 0, reason="needs setpriv")
def test_an_unreadable_file_makes_the_instance_partial(tmp_path: Path) -> None:
    stage = command(
        "locked",
        'W="$CODEX_ORCHESTRATOR_WORKSPACE"; echo ok > "$W/ok.txt"; '
        'echo secret > "$W/no.txt"; chmod 000 "$W/no.txt"',
    )
    write_config(tmp_path, pipeline("p", stage))
    # root reads anything: drop the capabilities that let it, as a normal user has none.
    prefix = (
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    )
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    import json

    from helpers import RunFiles

    run = RunFiles(tmp_path, "0101", json.loads(result.stdout)["run_id"])
    metadata = read(instance_dir(run, "01-locked") / "metadata.json")
    assert metadata["partial"] is True
    assert [(e["path"], e["kind"]) for e in metadata["errors"]] == [("no.txt", "unreadable")]
    assert set(index_files(run)) == {("01-locked", "ok.txt")}
    shown = run_cli_subprocess(tmp_path, "artifacts", "show", "--run", run.run_id)
    assert "no.txt (unreadable)" in shown.stdout


def test_a_glob_match_the_workspace_shadows_is_reported_unless_identical(tmp_path: Path) -> None:
    """A file of the cwd kept by a glob, where the workspace already has a file of that
    path: the same bytes are kept once; different bytes are lost, so said (``shadowed``)."""
    stage = command(
        "both",
        'W="$CODEX_ORCHESTRATOR_WORKSPACE"; '
        'echo mine > "$W/report.txt"; echo theirs > report.txt; '
        'echo same > "$W/same.txt"; echo same > same.txt',
        artifacts=["*.txt", "report.txt"],
    )
    write_config(tmp_path, pipeline("p", stage))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    workspace = instance_dir(run, "01-both") / "workspace"
    assert (workspace / "report.txt").read_text() == "mine\n"
    assert (workspace / "same.txt").read_text() == "same\n"
    metadata = read(instance_dir(run, "01-both") / "metadata.json")
    assert [(e["path"], e["kind"]) for e in metadata["errors"]] == [("report.txt", "shadowed")]
    assert metadata["partial"] is True
    assert set(index_files(run)) == {("01-both", "report.txt"), ("01-both", "same.txt")}
