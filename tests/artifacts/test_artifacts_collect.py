"""``artifacts collect`` for any run; ``list``, ``show``, ``ls`` and ``get`` on the result."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import (
    RunFiles,
    command,
    one_error_line,
    pipeline,
    run_cli_subprocess,
    sample_manifest,
    start_json,
    write_config,
)

from .kept import artifacts_dir, cli_json, collect, get_bytes, index_files, instance_dir, read

OLD_OUTPUT = b"first line\n\xff\xfe not utf-8\nlast\n"


def test_collect_rebuilds_a_run_from_before_artifacts(tmp_path: Path) -> None:
    (tmp_path / "out.bin").write_bytes(OLD_OUTPUT)
    write_config(tmp_path, pipeline("p", command("show", "cat out.bin"), command("bad", "exit 5")))
    _, _, run = start_json(tmp_path)
    # Make it look like a run kept before this feature: no artifacts, no paths recorded.
    shutil.rmtree(artifacts_dir(run))
    manifest = run.manifest()
    del manifest["artifacts_path"]
    manifest["run_summary_path"] = None
    run.manifest_path.write_text(json.dumps(manifest))
    document = collect(tmp_path, run.run_id)
    assert document["status"] == "success"
    assert document["team_session_id"] == run.run_id
    assert document["artifacts_path"] == f".runs/0101/cli/{run.run_id}/artifacts"
    assert document["instances_count"] == 2
    assert set(document) == {
        "status",
        "team_session_id",
        "artifacts_path",
        "instances_count",
        "metadata",
    }
    metadata = document["metadata"]
    assert metadata == read(artifacts_dir(run) / "metadata.json")
    assert [i["instance_id"] for i in metadata["instances"]] == ["01-show", "02-bad"]
    assert metadata["status"] == "failed"
    assert (instance_dir(run, "01-show") / "output.log").read_bytes() == OLD_OUTPUT
    assert read(instance_dir(run, "02-bad") / "metadata.json")["exit_code"] == 5
    updated = run.manifest()
    assert updated["artifacts_path"] == document["artifacts_path"]
    assert updated["run_summary_path"].endswith("/artifacts/summary.md")
    assert "# Run " in (artifacts_dir(run) / "summary.md").read_text()


def test_collect_keeps_what_a_lost_run_left(tmp_path: Path) -> None:
    stage = command(
        "hang", 'echo before; echo kept > "$CODEX_ORCHESTRATOR_WORKSPACE/lost.txt"; sleep 60'
    )
    write_config(tmp_path, pipeline("p", stage))
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_orchestrator", "start", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    found: list[Path] = []
    while time.monotonic() < deadline and not found:
        pattern = "0101/cli/*/artifacts/instances/01-hang/workspace/lost.txt"
        found = list((tmp_path / ".runs").glob(pattern))
        time.sleep(0.1)
    assert found, "the stage never wrote its file"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    run = RunFiles(tmp_path, "0101", found[0].parents[4].name)
    assert run.manifest()["status"] == "in_progress"
    document = collect(tmp_path, run.run_id)
    assert document["status"] == "success"
    assert index_files(run)[("01-hang", "lost.txt")]["size"] == 5
    assert (instance_dir(run, "01-hang") / "output.log").read_bytes() == b"before\n"
    fetched = get_bytes(tmp_path, run.run_id, "01-hang/lost.txt")
    assert fetched.stdout == b"kept\n"


def test_collect_of_a_run_without_stages_is_an_error(tmp_path: Path) -> None:
    manifest = sample_manifest(commands=())
    run_dir = tmp_path / ".runs" / "0101" / "cli" / manifest.run_id
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps(manifest.to_dict()))
    document = collect(tmp_path, manifest.run_id, code=2)
    assert document["status"] == "error"
    assert document["instances_count"] == 0
    assert "no stage instances" in document["error"]
    unknown = "2020-01-01T00-00-00-000Z-deadbeef"
    result = run_cli_subprocess(tmp_path, "artifacts", "collect", "--run", unknown)
    assert result.returncode == 2
    assert "not found" in one_error_line(result)


def test_list_show_ls_and_get(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        pipeline(
            "p",
            command("make", 'printf "a\\0b" > "$CODEX_ORCHESTRATOR_WORKSPACE/bin.dat"; echo made'),
        ),
    )
    _, _, run = start_json(tmp_path)
    rows = cli_json(tmp_path, "artifacts", "list")
    assert [(r["run_id"], r["instances"], r["files"], r["bytes"]) for r in rows] == [
        (run.run_id, 1, 1, 3)
    ]
    shown = cli_json(tmp_path, "artifacts", "show", "--run", run.run_id)
    assert shown["run_id"] == run.run_id
    assert shown["totals"]["files"] == 1
    listed = cli_json(tmp_path, "artifacts", "ls", "--run", run.run_id, "--instance", "01-make")
    assert listed == [
        {
            "instance": "01-make",
            "path": "bin.dat",
            "size": 3,
            "sha256": hashlib.sha256(b"a\0b").hexdigest(),
            "permissions": "0644",
            "type": "file",
            "mode": "archived",
        }
    ]
    out = tmp_path / "copy.dat"
    result = run_cli_subprocess(
        tmp_path, "artifacts", "get", "--run", run.run_id, "01-make/bin.dat", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b"a\0b"
    for bad in ("01-make/../../manifest.json", "/etc/passwd", "01-make", "../x/y", "01-make/nope"):
        refused = get_bytes(tmp_path, run.run_id, bad)
        assert refused.returncode == 2, bad
        assert refused.stdout == b""
        assert refused.stderr.decode().startswith("codex-orchestrator: error: ")
    listing = run_cli_subprocess(tmp_path, "artifacts", "list", env={"COLUMNS": "80"})
    assert run.run_id in listing.stdout
    assert "kept" in listing.stdout
    shown_text = run_cli_subprocess(tmp_path, "artifacts", "show", "--run", run.run_id)
    assert "01-make" in shown_text.stdout
    assert "1 instances, 1 files" in shown_text.stdout
    text = run_cli_subprocess(tmp_path, "artifacts", "ls", "--run", run.run_id)
    assert "bin.dat" in text.stdout
    assert "archived" in text.stdout


def test_the_run_end_collect_matches_a_rebuild_from_disk(tmp_path: Path) -> None:
    """The runner's own collect reuses what each stage kept (no reading it back); a
    rebuild from the files on disk must come to the same instances, byte for byte."""
    stages = [
        command("make", 'echo kept > "$CODEX_ORCHESTRATOR_WORKSPACE/a.txt"; echo out'),
        command("fail", "echo broken >&2; exit 3"),
    ]
    write_config(tmp_path, pipeline("p", *stages))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 1
    instances = artifacts_dir(run) / "instances"
    before = {p: p.read_bytes() for p in sorted(instances.glob("*/metadata.json"))}
    run_level = read(artifacts_dir(run) / "metadata.json")["instances"]
    assert [i["status"] for i in run_level] == ["succeeded", "failed"]
    collect(tmp_path, run.run_id)
    assert {p: p.read_bytes() for p in sorted(instances.glob("*/metadata.json"))} == before
    assert read(artifacts_dir(run) / "metadata.json")["instances"] == run_level


def test_collect_completes_an_instance_whose_metadata_was_not_written(tmp_path: Path) -> None:
    """A stage that left its workspace empty has its metadata.json written while the
    next command runs; a runner killed meanwhile leaves the instance without it, and
    collect writes the same file the runner would have."""
    write_config(tmp_path, pipeline("p", command("quiet", "echo out"), command("next", "true")))
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    metadata = instance_dir(run, "01-quiet") / "metadata.json"
    written = metadata.read_bytes()
    metadata.unlink()

    collect(tmp_path, run.run_id)

    assert metadata.read_bytes() == written
    assert read(metadata)["status"] == "succeeded"


def test_the_artifacts_commands_take_latest(tmp_path: Path) -> None:
    """``--latest`` instead of ``--run ID``: the newest run of the task, as ``status``."""
    stage = command(
        "make", 'echo "$CODEX_ORCHESTRATOR_RUN_ID" > "$CODEX_ORCHESTRATOR_WORKSPACE/id"'
    )
    write_config(tmp_path, pipeline("p", stage))
    start_json(tmp_path)
    _, _, newest = start_json(tmp_path)

    listed = cli_json(tmp_path, "artifacts", "ls", "--latest")
    assert [(row["instance"], row["path"]) for row in listed] == [("01-make", "id")]
    assert cli_json(tmp_path, "artifacts", "show", "--latest")["run_id"] == newest.run_id
    got = run_cli_subprocess(tmp_path, "artifacts", "get", "01-make/id", "--latest")
    assert got.stdout == f"{newest.run_id}\n"
    for args in (("ls",), ("ls", "--latest", "--run", newest.run_id)):
        refused = run_cli_subprocess(tmp_path, "artifacts", *args)
        assert refused.returncode == 2
        assert refused.stderr == (
            "codex-orchestrator: error: give exactly one of --run ID or --latest\n"
        )
