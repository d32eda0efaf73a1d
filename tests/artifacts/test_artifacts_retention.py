"""Storage that stays bounded: prune, pack and search round trips."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import zstandard
from helpers import RunFiles, command, pipeline, run_cli_subprocess, start_json, write_config

from codex_orchestrator.artifacts.pack import UnsafeMember, extract_pack

from .kept import artifacts_dir, cli_json, get_bytes, instance_dir, read

SHARED = 'printf shared-content > "$CODEX_ORCHESTRATOR_WORKSPACE/shared.txt"; '


def _objects(project: Path) -> set[str]:
    return {p.name for p in (project / ".runs/.artifacts/objects").glob("*/*")}


def _two_runs(project: Path) -> tuple[RunFiles, RunFiles]:
    own = 'echo "unique $CODEX_ORCHESTRATOR_RUN_ID" > "$CODEX_ORCHESTRATOR_WORKSPACE/own.txt"'
    write_config(project, pipeline("p", command("make", SHARED + own)))
    first = start_json(project)[2]
    second = start_json(project)[2]
    return first, second


def test_prune_keep_last_removes_files_but_never_evidence(tmp_path: Path) -> None:
    first, second = _two_runs(tmp_path)
    before = _objects(tmp_path)
    assert len(before) == 3  # shared content once, one own.txt per run
    dry = cli_json(tmp_path, "artifacts", "prune", "--keep-last", "1", "--dry-run")
    assert [r["run_id"] for r in dry["pruned"]] == [first.run_id]
    assert (instance_dir(first, "01-make") / "workspace/own.txt").exists()
    assert _objects(tmp_path) == before
    done = cli_json(tmp_path, "artifacts", "prune", "--keep-last", "1")
    assert [r["run_id"] for r in done["pruned"]] == [first.run_id]
    assert done["objects_removed"] == 1  # the first run's own.txt; shared content stays
    assert not (artifacts_dir(first) / "instances").exists()
    for evidence in ("manifest.json", "runner.ndjson", "commands/01-make.ndjson"):
        assert (first.run_dir / evidence).is_file()
    assert (artifacts_dir(first) / "metadata.json").is_file()
    assert read(artifacts_dir(first) / "metadata.json")["pruned_at"]
    assert first.manifest()["artifacts_pruned_at"]
    kept = instance_dir(second, "01-make") / "workspace/shared.txt"
    assert kept.read_text() == "shared-content"
    assert len(_objects(tmp_path)) == 2
    rows = cli_json(tmp_path, "artifacts", "list")
    assert {r["run_id"]: r["pruned_at"] is not None for r in rows} == {
        first.run_id: True,
        second.run_id: False,
    }
    # Both remaining runs kept: a second prune by size and age removes nothing more.
    again = cli_json(tmp_path, "artifacts", "prune", "--max-size", "10GB", "--older-than", "30d")
    assert again["pruned"] == []


def test_config_retention_applies_after_each_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, pipeline("p", command("make", SHARED)))
    document = json.loads(config.read_text())
    document["artifacts"] = {"retention": {"keepLast": 1}}
    config.write_text(json.dumps(document))
    first = start_json(tmp_path)[2]
    second = start_json(tmp_path)[2]
    assert first.manifest()["artifacts_pruned_at"]
    assert "artifacts_pruned_at" not in second.manifest()
    assert (instance_dir(second, "01-make") / "workspace/shared.txt").exists()


def test_prune_leaves_a_run_in_progress_alone(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        pipeline("quick", command("make", SHARED)),
        pipeline("slow", command("first", SHARED), command("wait", "sleep 30")),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "slow", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        kept: list[Path] = []
        while time.monotonic() < deadline and not kept:
            kept = list((tmp_path / ".runs").glob("0101/cli/*/artifacts/instances/02-wait"))
            time.sleep(0.1)
        assert kept
        start_json(tmp_path, "quick")
        done = cli_json(tmp_path, "artifacts", "prune", "--older-than", "0d")
        live = kept[0].parents[2].name
        assert live not in [r["run_id"] for r in done["pruned"]]
        assert len(done["pruned"]) == 1
        shared = kept[0].parent / "01-first/workspace/shared.txt"
        assert shared.read_text() == "shared-content"
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=30)


def test_pack_round_trip_keeps_bytes_modes_and_links(tmp_path: Path) -> None:
    stage = command(
        "make",
        'W="$CODEX_ORCHESTRATOR_WORKSPACE"; printf "\\001\\377bin" > "$W/data.bin"; '
        'printf "#!/bin/sh\\n" > "$W/tool.sh"; chmod 750 "$W/tool.sh"; '
        'ln -s data.bin "$W/alias"; echo "needle in the log"',
    )
    write_config(tmp_path, pipeline("p", stage))
    run = start_json(tmp_path)[2]
    packed = cli_json(tmp_path, "artifacts", "pack", "--older-than", "0d")
    assert [r["run_id"] for r in packed["packed"]] == [run.run_id]
    pack = artifacts_dir(run) / "artifacts.tar.zst"
    assert pack.is_file()
    assert not (artifacts_dir(run) / "instances").exists()
    listed = cli_json(tmp_path, "artifacts", "ls", "--run", run.run_id)
    assert {(r["path"], r["mode"]) for r in listed} == {
        ("data.bin", "archived"),
        ("tool.sh", "archived"),
        ("alias", "archived"),
    }
    assert get_bytes(tmp_path, run.run_id, "01-make/data.bin").stdout == b"\x01\xffbin"
    hits = cli_json(tmp_path, "artifacts", "search", "needle", "--run", run.run_id)
    assert [(h["instance"], h["path"], h["line"]) for h in hits] == [("01-make", "output.log", 1)]
    out = tmp_path / "unpacked"
    extract_pack(pack, out)
    workspace = out / "instances/01-make/workspace"
    assert (workspace / "data.bin").read_bytes() == b"\x01\xffbin"
    # The kept copy is read-only (0550); extracted, the owner may write it again: 0750 as made.
    assert stat.S_IMODE((workspace / "tool.sh").stat().st_mode) == 0o750
    assert os.readlink(workspace / "alias") == "data.bin"
    # Collect after packing still answers from what was recorded.
    result = run_cli_subprocess(tmp_path, "artifacts", "collect", "--run", run.run_id)
    assert result.returncode == 0, result.stderr


def _evil_pack(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    path.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))


@pytest.mark.parametrize(
    ("name", "kind", "link"),
    [
        ("instances/../../escape.txt", tarfile.REGTYPE, ""),
        ("/etc/evil", tarfile.REGTYPE, ""),
        ("instances/01-make/workspace/up", tarfile.SYMTYPE, "../../../../../etc/passwd"),
        ("instances/01-make/workspace/abs", tarfile.SYMTYPE, "/etc/passwd"),
        ("instances/01-make/workspace/dev", tarfile.FIFOTYPE, ""),
    ],
)
def test_unsafe_pack_members_are_refused(tmp_path: Path, name: str, kind: bytes, link: str) -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    pack = tmp_path / "evil.tar.zst"
    _evil_pack(pack, member, b"x")
    with pytest.raises(UnsafeMember):
        extract_pack(pack, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    assert not list((tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else True


def test_get_through_a_tampered_pack_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, pipeline("p", command("make", SHARED)))
    run = start_json(tmp_path)[2]
    cli_json(tmp_path, "artifacts", "pack", "--older-than", "0d")
    member = tarfile.TarInfo("instances/../../../outside")
    _evil_pack(artifacts_dir(run) / "artifacts.tar.zst", member, b"x")
    refused = get_bytes(tmp_path, run.run_id, "01-make/shared.txt")
    assert refused.returncode == 2
    assert b"unsafe pack member" in refused.stderr


def test_search_finds_kept_text_and_logs_by_task_and_run(tmp_path: Path) -> None:
    stage = command(
        "write",
        'printf "alpha\\nthe quick brown fox\\n" > "$CODEX_ORCHESTRATOR_WORKSPACE/notes.txt"; '
        'printf "\\000binary fox" > "$CODEX_ORCHESTRATOR_WORKSPACE/blob.bin"; echo fox in log',
    )
    write_config(tmp_path, pipeline("p", stage))
    one = start_json(tmp_path, "--task", "t1")[2]
    two = start_json(tmp_path, "--task", "t2")[2]
    hits = cli_json(tmp_path, "artifacts", "search", "fox", "--task", "t1")
    assert {(h["run_id"], h["task_id"], h["instance"], h["path"], h["line"]) for h in hits} == {
        (one.run_id, "t1", "01-write", "notes.txt", 2),
        (one.run_id, "t1", "01-write", "output.log", 1),
    }
    assert all("[fox]" in h["snippet"] for h in hits)
    assert set(hits[0]) == {"run_id", "task_id", "instance", "path", "line", "snippet"}
    only_two = cli_json(tmp_path, "artifacts", "search", "quick", "--run", two.run_id)
    assert [(h["run_id"], h["path"]) for h in only_two] == [(two.run_id, "notes.txt")]
    stray = cli_json(tmp_path, "artifacts", "search", 'quick"', "--run", two.run_id)
    assert [h["path"] for h in stray] == ["notes.txt"]  # not FTS5 syntax: its words are found
    empty = run_cli_subprocess(tmp_path, "artifacts", "search", "  ")
    assert empty.returncode == 2
    cli_json(tmp_path, "artifacts", "prune", "--older-than", "0d")
    assert cli_json(tmp_path, "artifacts", "search", "fox") == []
    text = run_cli_subprocess(tmp_path, "artifacts", "search", "nothing-like-this")
    assert text.returncode == 0
    assert "no matches" in text.stdout


def test_a_run_is_indexed_by_the_next_search_not_at_its_end(tmp_path: Path) -> None:
    """The run's end notes it in search-pending.ndjson (no full-text indexing then);
    the next search indexes it first, so it is found, and the note is used up."""
    write_config(tmp_path, pipeline("p", command("say", "echo needle-in-log")))
    first = start_json(tmp_path)[2]
    pending = tmp_path / ".runs" / ".artifacts" / "search-pending.ndjson"
    assert [json.loads(line)["run_id"] for line in pending.read_bytes().splitlines()] == [
        first.run_id
    ]
    assert not (tmp_path / ".runs" / ".artifacts" / "search.sqlite").exists()
    hits = cli_json(tmp_path, "artifacts", "search", "needle")
    assert [(h["run_id"], h["path"]) for h in hits] == [(first.run_id, "output.log")]
    assert not pending.exists()
    second = start_json(tmp_path)[2]
    again = cli_json(tmp_path, "artifacts", "search", "needle")
    assert sorted(h["run_id"] for h in again) == sorted([first.run_id, second.run_id])
    # An explicit collect indexes at once, and a pruned run noted earlier is skipped.
    cli_json(tmp_path, "artifacts", "collect", "--run", first.run_id)
    cli_json(tmp_path, "artifacts", "prune", "--keep-last", "1")
    assert [h["run_id"] for h in cli_json(tmp_path, "artifacts", "search", "needle")] == [
        second.run_id
    ]


def test_max_size_prunes_the_oldest_until_the_rest_fit(tmp_path: Path) -> None:
    stage = command("make", 'head -c 1048576 /dev/urandom > "$CODEX_ORCHESTRATOR_WORKSPACE/r.bin"')
    write_config(tmp_path, pipeline("p", stage))
    runs = [start_json(tmp_path)[2] for _ in range(3)]
    done = cli_json(tmp_path, "artifacts", "prune", "--max-size", "1.5MB")
    assert [r["run_id"] for r in done["pruned"]] == [runs[1].run_id, runs[0].run_id]
    assert done["objects_removed"] == 2
    assert done["bytes_freed"] == 2 * 1048576
    assert (instance_dir(runs[2], "01-make") / "workspace/r.bin").stat().st_size == 1048576


def test_config_compress_after_days_packs_older_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path, pipeline("p", command("make", SHARED + "echo logged")))
    document = json.loads(config.read_text())
    document["artifacts"] = {"retention": {"compressAfterDays": 0}}
    config.write_text(json.dumps(document))
    first = start_json(tmp_path)[2]
    second = start_json(tmp_path)[2]
    assert (artifacts_dir(first) / "artifacts.tar.zst").is_file()
    assert not (artifacts_dir(first) / "instances").exists()
    assert (artifacts_dir(second) / "instances").is_dir()
    assert get_bytes(tmp_path, first.run_id, "01-make/shared.txt").stdout == b"shared-content"
    rows = {r["run_id"]: r["packed"] for r in cli_json(tmp_path, "artifacts", "list")}
    assert rows == {first.run_id: True, second.run_id: False}
