"""Runs that seal their kept files: succeeded, failed, cancelled; get, ls, retry."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import command, one_error_line, run_cli_subprocess, run_ids, start_json

from .kept import index_files, instance_dir
from .keys import KeyPair, age_decrypt
from .sealproject import (
    SECRET,
    cli,
    files_holding,
    seal_config,
    secret_stage,
    write_sealing_config,
)


def test_a_sealed_run_leaves_no_plaintext_and_decrypts_with_the_identity(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    write_sealing_config(tmp_path, secret_stage(), seal=seal_config(age_keys))
    result, _document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = run.manifest()
    assert manifest["artifacts_status"] == "sealed"
    assert manifest["artifacts_seal_error"] is None
    workspace = instance_dir(run, "01-make") / "workspace"
    sealed = workspace / "secret.txt.age"
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert not (workspace / "secret.txt").exists()
    assert age_decrypt(sealed, age_keys.identity) == SECRET + b"\n"
    assert files_holding(tmp_path / ".runs", SECRET) == []  # objects, index, search too
    rows = index_files(run)
    assert rows[("01-make", "secret.txt")]["sealed"] is True
    assert rows[("01-make", "secret.txt")]["sha256"] is None  # keepHashes is off

    listed = json.loads(
        cli(tmp_path, "artifacts", "ls", "--run", run.run_id, "--format", "json").stdout
    )
    assert {row["path"]: row["mode"] for row in listed} == {
        "secret.txt": "sealed",
        "nested/blob.bin": "sealed",
        "report.md": "sealed",
    }
    refused = run_cli_subprocess(
        tmp_path, "artifacts", "get", "--run", run.run_id, "01-make/secret.txt"
    )
    assert refused.returncode == 2
    assert "01-make/secret.txt is sealed; pass --identity FILE" in one_error_line(refused)
    got = cli(
        tmp_path,
        "artifacts",
        "get",
        "--run",
        run.run_id,
        "01-make/secret.txt",
        "--identity",
        str(age_keys.identity),
    )
    assert (got.returncode, got.stdout) == (0, SECRET + b"\n")
    by_env = cli(
        tmp_path,
        "artifacts",
        "get",
        "--run",
        run.run_id,
        "01-make/nested/blob.bin",
        "--out",
        "blob.bin",
        env={"CODEX_ORCHESTRATOR_AGE_IDENTITY": str(age_keys.identity)},
    )
    assert by_env.returncode == 0, by_env.stderr
    assert (tmp_path / "blob.bin").read_bytes() == age_decrypt(
        workspace / "nested" / "blob.bin.age", age_keys.identity
    )
    searched = json.loads(
        cli(tmp_path, "artifacts", "search", SECRET.decode(), "--format", "json").stdout
    )
    assert searched == []


def test_keep_hashes_keeps_plaintext_sizes_and_digests(tmp_path: Path, age_keys: KeyPair) -> None:
    import hashlib

    write_sealing_config(tmp_path, secret_stage(), seal=seal_config(age_keys, keepHashes=True))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    row = index_files(run)[("01-make", "secret.txt")]
    assert row["sealed"] is True
    assert row["size"] == len(SECRET) + 1
    assert row["sha256"] == hashlib.sha256(SECRET + b"\n").hexdigest()


def test_failed_and_cancelled_runs_are_sealed_too(tmp_path: Path, age_keys: KeyPair) -> None:
    write_sealing_config(tmp_path, secret_stage("fails", "; exit 3"), seal=seal_config(age_keys))
    result, document, run = start_json(tmp_path)
    assert result.returncode == 1
    assert document["status"] == "failed"
    assert run.manifest()["artifacts_status"] == "sealed"
    assert files_holding(tmp_path / ".runs", SECRET) == []

    write_sealing_config(
        tmp_path,
        secret_stage("slow", '; touch "$CODEX_ORCHESTRATOR_WORKSPACE/../ready"; sleep 60'),
        seal=seal_config(age_keys),
    )
    before = set(run_ids(tmp_path))
    runner = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list((tmp_path / ".runs").glob("*/cli/*/artifacts/instances/01-slow/ready")):
        assert time.monotonic() < deadline, "the stage never started"
        assert runner.poll() is None
        time.sleep(0.05)
    runner.send_signal(signal.SIGINT)
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 130, err
    (cancelled,) = set(run_ids(tmp_path)) - before
    manifest = json.loads(
        (tmp_path / ".runs" / "0101" / "cli" / cancelled / "manifest.json").read_bytes()
    )
    assert manifest["status"] == "cancelled"
    assert manifest["artifacts_status"] == "sealed"
    assert files_holding(tmp_path / ".runs", SECRET) == []


def test_an_invalid_recipient_stops_start_before_anything_runs(tmp_path: Path) -> None:
    write_sealing_config(tmp_path, command("x", "touch ran"), seal={"recipients": ["age1notakey"]})
    result = run_cli_subprocess(tmp_path, "start")
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("codex.orchestrator.json: artifacts.seal.recipients[0]: ")
    assert "invalid age recipient 'age1notakey'" in line
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / ".runs").exists()


def test_a_failed_seal_keeps_the_plaintext_and_seal_retries(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    blocker = 'mkdir "$CODEX_ORCHESTRATOR_WORKSPACE/report.md.age"'  # in the way of one seal
    write_sealing_config(tmp_path, secret_stage("make", "; " + blocker), seal=seal_config(age_keys))
    result, _document, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "sealing artifacts failed: 01-make/report.md: report.md.age already exists" in result.stderr
    )
    manifest = run.manifest()
    assert manifest["artifacts_status"] == "seal-failed"
    assert "01-make/report.md" in manifest["artifacts_seal_error"]
    workspace = instance_dir(run, "01-make") / "workspace"
    assert (workspace / "report.md").read_text() == "report of the run\n"
    assert stat.S_IMODE(workspace.stat().st_mode) == 0o700
    assert (workspace / "secret.txt.age").is_file()  # the others are sealed

    again = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert again.returncode == 1
    assert json.loads(again.stdout)["status"] == "seal-failed"
    (workspace / "report.md.age").rmdir()
    retried = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["sealed"] == 1
    assert run.manifest()["artifacts_status"] == "sealed"
    assert age_decrypt(workspace / "report.md.age", age_keys.identity) == b"report of the run\n"
    again = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["sealed"] == 0


def test_seal_covers_runs_kept_before_sealing_was_configured(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    write_sealing_config(tmp_path, secret_stage(), seal=None)
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0
    assert files_holding(tmp_path / ".runs", SECRET)  # kept plaintext: workspace and object
    search = ("artifacts", "search", SECRET.decode(), "--format", "json")
    assert [hit["path"] for hit in json.loads(cli(tmp_path, *search).stdout)] == ["secret.txt"]
    refused = run_cli_subprocess(tmp_path, "artifacts", "seal", "--run", run.run_id)
    assert refused.returncode == 2
    assert "sealing is not configured" in one_error_line(refused)
    write_sealing_config(tmp_path, secret_stage(), seal=seal_config(age_keys))
    sealed = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert sealed.returncode == 0, sealed.stderr
    assert json.loads(sealed.stdout)["sealed"] == 3
    assert files_holding(tmp_path / ".runs", SECRET) == []
    assert json.loads(cli(tmp_path, *search).stdout) == []
    got = cli(
        tmp_path,
        "artifacts",
        "get",
        "--run",
        run.run_id,
        "01-make/secret.txt",
        "--identity",
        str(age_keys.identity),
    )
    assert got.stdout == SECRET + b"\n"
    assert os.listdir(instance_dir(run, "01-make") / "workspace") != []


def test_a_packed_run_is_unpacked_sealed_and_its_pack_removed(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    write_sealing_config(tmp_path, secret_stage(), seal=None)
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0
    packed = cli(tmp_path, "artifacts", "pack", "--older-than", "0d", "--format", "json")
    assert packed.returncode == 0, packed.stderr
    pack = run.run_dir / "artifacts" / "artifacts.tar.zst"
    assert pack.is_file()
    write_sealing_config(tmp_path, secret_stage(), seal=seal_config(age_keys))
    sealed = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert sealed.returncode == 0, sealed.stderr
    assert not pack.exists()
    assert files_holding(tmp_path / ".runs", SECRET) == []
    got = cli(
        tmp_path,
        "artifacts",
        "get",
        "--run",
        run.run_id,
        "01-make/secret.txt",
        "--identity",
        str(age_keys.identity),
    )
    assert (got.returncode, got.stdout) == (0, SECRET + b"\n")


@pytest.mark.slow
def test_artifacts_seal_killed_mid_way_then_retried_loses_nothing(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    many = (
        "for i in $(seq 1 40); do "
        'head -c 2000000 /dev/urandom > "$CODEX_ORCHESTRATOR_WORKSPACE/part-$i.bin"; done'
    )
    write_sealing_config(tmp_path, command("many", many), seal=None)
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0
    workspace = instance_dir(run, "01-many") / "workspace"
    originals = {p.name: p.read_bytes() for p in workspace.iterdir()}
    assert len(originals) == 40
    write_sealing_config(tmp_path, command("many", many), seal=seal_config(age_keys))
    sealing = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "artifacts", "seal", "--run", run.run_id],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".age") for p in workspace.iterdir()):
        assert time.monotonic() < deadline, "sealing never started"
        assert sealing.poll() is None, "sealing finished before it could be interrupted"
        time.sleep(0.005)
    sealing.send_signal(signal.SIGKILL)
    sealing.wait(timeout=30)
    assert sealing.returncode == -signal.SIGKILL
    assert any(p.suffix == ".bin" for p in workspace.iterdir()), "nothing left to interrupt"
    retried = cli(tmp_path, "artifacts", "seal", "--run", run.run_id, "--format", "json")
    assert retried.returncode == 0, retried.stderr
    assert run.manifest()["artifacts_status"] == "sealed"
    assert sorted(p.name for p in workspace.iterdir()) == sorted(f"{n}.age" for n in originals)
    rows = index_files(run)
    assert all(rows[("01-many", name)]["sealed"] for name in originals)
    for name, data in originals.items():
        assert age_decrypt(workspace / f"{name}.age", age_keys.identity) == data
    objects = tmp_path / ".runs" / ".artifacts" / "objects"
    assert [p for p in objects.rglob("*") if p.is_file()] == []


def test_subpipeline_runs_are_sealed_with_their_parent(tmp_path: Path, age_keys: KeyPair) -> None:
    from helpers import pipeline, subpipeline

    write_sealing_config(tmp_path, subpipeline("sub", "child"), seal=seal_config(age_keys))
    document = json.loads((tmp_path / "codex.orchestrator.json").read_text())
    document["pipelines"].append(pipeline("child", secret_stage("inner")))
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    assert run.manifest()["artifacts_status"] == "sealed"
    child_id = run.manifest()["child_runs"][0]["run_id"]
    child = json.loads((run.task_dir / "cli" / child_id / "manifest.json").read_bytes())
    assert child["artifacts_status"] == "sealed"
    assert files_holding(tmp_path / ".runs", SECRET) == []
    got = cli(
        tmp_path,
        "artifacts",
        "get",
        "--run",
        run.run_id,
        "01-sub/01-inner/secret.txt",
        "--identity",
        str(age_keys.identity),
    )
    assert (got.returncode, got.stdout) == (0, SECRET + b"\n"), got.stderr
    listed = json.loads(
        cli(tmp_path, "artifacts", "ls", "--run", run.run_id, "--format", "json").stdout
    )
    assert {(row["instance"], row["mode"]) for row in listed} == {("01-sub/01-inner", "sealed")}


@pytest.mark.parametrize(
    ("seal", "message"),
    [
        ({"recipientsFile": "keys/none.txt"}, "artifacts.seal.recipientsFile: cannot read"),
        ({"recipients": "age1abc"}, "artifacts.seal.recipients: must be an array"),
        ({"recipients": []}, "artifacts.seal: needs recipients or recipientsFile"),
        ({"recipients": [7]}, "artifacts.seal.recipients[0]: must be a string"),
    ],
)
def test_bad_seal_settings_are_exit_2_naming_the_key(
    tmp_path: Path, seal: dict[str, object], message: str
) -> None:
    write_sealing_config(tmp_path, command("x", "touch ran"), seal=seal)
    result = run_cli_subprocess(tmp_path, "start")
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert not (tmp_path / "ran").exists()
