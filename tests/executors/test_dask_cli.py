"""``start --executor dask --scheduler ... --jobs N``: a graph of stages on the cluster.

The runner is the real CLI in a subprocess; the cluster is the package's two worker
processes (conftest.py). Stages meet at a rendezvous (files in the shared project
directory) so that "they ran at once" is a fact the stages check themselves, not a
wall-clock guess; the manifest then shows where each ran and that their times overlap,
and the evidence is compared, file by file and event by event, with a local run of the
same pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import RunFiles, command, output_bytes, pipeline, start_json, tree, write_config

from .procs import process_ended

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FAN = ("shard-a", "shard-b", "shard-c", "shard-d")
# Each shard marks itself started, then waits (up to 60 s) for every shard to have
# started: only shards running at once get past it; a shard left alone fails.
RENDEZVOUS = (
    "touch started-$CODEX_ORCHESTRATOR_STAGE_ID; i=0; "
    'while [ "$(ls started-* | wc -l)" -lt {count} ] && [ $i -lt 1200 ]; '
    "do sleep 0.05; i=$((i+1)); done; "
    '[ "$(ls started-* | wc -l)" -eq {count} ] || exit 9; '
    "echo met $CODEX_ORCHESTRATOR_STAGE_ID; echo on-stderr >&2"
)


def _fan_config(project: Path) -> None:
    """prep -> four shards at once -> join."""
    shards = [command(shard, RENDEZVOUS.format(count=len(FAN)), needs=["prep"]) for shard in FAN]
    write_config(
        project,
        pipeline(
            "fan",
            command("prep", "echo preparing"),
            *shards,
            command("join", "echo joined", needs=list(FAN)),
        ),
    )


def _by_index(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        if "index" in event:
            grouped.setdefault(event["index"], []).append(event)
    return grouped


def _shapes(events: list[dict[str, Any]]) -> list[tuple[str, frozenset[str]]]:
    """What each event is, without its values, the Dask-only ``worker``, or the local
    ``command:session`` (a session on the runner's host, which the runner's watchdog and
    ``resume`` may end: a Dask stage's session lives on its worker and is not recorded).
    """
    return [
        (event["type"], frozenset(event) - {"worker"})
        for event in events
        if event["type"] != "command:session"
    ]


def test_a_graph_of_parallel_stages_spreads_over_both_workers(
    tmp_path: Path, cluster: Any, client: Any
) -> None:
    """Four shards with --jobs 4 on two 2-thread workers: at once, on both, same evidence."""
    local_project, dask_project = tmp_path / "local", tmp_path / "dask"
    for project in (local_project, dask_project):
        project.mkdir()
        _fan_config(project)
    local, local_doc, local_run = start_json(local_project, "--jobs", "4")
    assert local.returncode == 0, local.stderr
    result, document, run = start_json(
        dask_project,
        *("--executor", "dask", "--scheduler", cluster.scheduler_address, "--jobs", "4"),
    )
    assert result.returncode == 0, result.stderr
    assert document["status"] == local_doc["status"] == "succeeded"

    manifest = run.manifest()
    records = {record["id"]: record for record in manifest["commands"]}
    assert all(record["status"] == "succeeded" for record in records.values())
    # Every stage ran on a worker of this cluster, the shards on both of its workers.
    workers = set(client.scheduler_info()["workers"])
    assert len(workers) == 2
    assert {records[stage]["worker"] for stage in records} <= workers
    assert {records[shard]["worker"] for shard in FAN} == workers
    # The shards overlap: every one started before any of them ended (ISO UTC, same
    # width: string order is time order), and all of them after prep, before join.
    shards = [records[shard] for shard in FAN]
    assert max(r["started_at"] for r in shards) < min(r["completed_at"] for r in shards)
    assert records["prep"]["completed_at"] <= min(r["started_at"] for r in shards)
    assert max(r["completed_at"] for r in shards) <= records["join"]["started_at"]

    _assert_same_evidence(local_run, run)


def _assert_same_evidence(local: RunFiles, dask: RunFiles) -> None:
    """The dask run left what the local run left: files, events, records, resources."""
    assert tree(dask.run_dir) == tree(local.run_dir)
    local_manifest, dask_manifest = local.manifest(), dask.manifest()
    assert set(dask_manifest["resources"]) == set(local_manifest["resources"])
    local_records = {record["id"]: record for record in local_manifest["commands"]}
    for record in dask_manifest["commands"]:
        twin = local_records[record["id"]]
        assert set(record) == set(twin)
        assert twin["worker"] is None
        assert set(record["resources"]) == set(twin["resources"])
        # CPU from wait4 on the worker; peak RSS is sampled, so a short stage may have none.
        assert isinstance(record["resources"]["cpu_seconds"], float)
        peak = record["resources"]["peak_rss_bytes"]
        assert peak is None or (isinstance(peak, int) and peak > 0)
        stem = Path(record["log_path"]).stem
        assert stem == Path(twin["log_path"]).stem
        events = dask.command_events(stem)
        assert _shapes(events) == _shapes(local.command_events(stem))
        assert output_bytes(events) == output_bytes(local.command_events(stem))
        assert events[-1]["worker"] == record["worker"]
    # runner.ndjson: per stage, the same events in the same order as the local run.
    assert not [event for event in dask.events() if event["type"] == "command:session"]
    local_events, dask_events = _by_index(local.events()), _by_index(dask.events())
    assert sorted(dask_events) == sorted(local_events)
    for index, events in dask_events.items():
        assert _shapes(events) == _shapes(local_events[index])
    assert [e["type"] for e in dask.events() if "index" not in e] == [
        e["type"] for e in local.events() if "index" not in e
    ]
    shard_out = dask.command_events("02-shard-a")
    assert output_bytes(shard_out, "stdout") == b"met shard-a\n"
    assert output_bytes(shard_out, "stderr") == b"on-stderr\n"


@pytest.fixture
def gpu_worker(client: Any) -> Iterator[str]:
    """One worker of the cluster also offers ``gpu=1`` (as ``dask worker --resources``)."""
    address = min(client.scheduler_info()["workers"])

    async def offer(dask_worker: Any, gpu: float) -> None:
        await dask_worker.set_resources(gpu=gpu)

    client.run(offer, gpu=1, workers=[address])
    try:
        yield address
    finally:
        client.run(offer, gpu=0, workers=[address])


def test_a_stage_needing_a_resource_only_one_worker_has_runs_there(
    tmp_path: Path, cluster: Any, client: Any, gpu_worker: str
) -> None:
    """``resources: {"gpu": 1}``: every such stage on the gpu worker, one at a time."""
    # Three stages asking for the one gpu, free to run at once (--jobs 4): each checks
    # that it holds the gpu alone (the lock directory), as Dask must make it.
    hold = (
        "mkdir gpu-lock || exit 7; echo on $CODEX_ORCHESTRATOR_STAGE_ID; sleep 0.3; rmdir gpu-lock"
    )
    trainers = [f"train-{n}" for n in (1, 2, 3)]
    write_config(
        tmp_path,
        pipeline(
            "gpu",
            command("prep", "echo prep"),
            *(command(name, hold, needs=["prep"], resources={"gpu": 1}) for name in trainers),
            command("cpu-only", "echo anywhere", needs=["prep"], resources={"cpu": 1}),
        ),
    )
    result, document, run = start_json(
        tmp_path, "--scheduler", cluster.scheduler_address, "--jobs", "4"
    )
    assert result.returncode == 0, result.stderr
    assert document["status"] == "succeeded"
    records = {record["id"]: record for record in run.manifest()["commands"]}
    assert {records[name]["worker"] for name in trainers} == {gpu_worker}
    assert records["cpu-only"]["worker"] in client.scheduler_info()["workers"]
    for name in trainers:
        assert records[name]["status"] == "succeeded", records[name]["summary"]
        stem = Path(records[name]["log_path"]).stem
        assert output_bytes(run.command_events(stem), "stdout") == f"on {name}\n".encode()


def test_a_halt_gate_ends_the_stage_running_on_a_worker(tmp_path: Path, cluster: Any) -> None:
    """Config ``executor: dask``; a halt gate fires while a stage runs on a worker: its
    whole tree there is ended, the run fails with ``status_detail`` naming the gate."""
    write = "mkdir -p out; printf '%s' '{\"coverage\": 70}' > out/results.json"
    write_config(
        tmp_path,
        pipeline(
            "halting",
            # tests writes its results once slow runs, so the halt meets a running stage.
            command("tests", f"while [ ! -s slow.pid ]; do sleep 0.05; done; {write}"),
            command("deploy", "echo deployed", needs=["tests"]),
            command("slow", "sleep 300 & echo $! > slow.pid; wait"),
        ),
    )
    config_path = tmp_path / "codex.orchestrator.json"
    config = orjson.loads(config_path.read_bytes())
    config["executor"] = {"kind": "dask", "scheduler": cluster.scheduler_address}
    config["registry"] = {
        "artifact_types": {
            "results": {
                "producer": "tests",
                "consumers": ["deploy"],
                "format": "json",
                "path": "out/results.json",
            }
        }
    }
    config["gates"] = [
        {"id": "coverage", "artifact": "results", "when": "coverage < `80`", "action": "halt"}
    ]
    config_path.write_bytes(orjson.dumps(config))
    result, document, run = start_json(tmp_path, "--jobs", "2")
    assert result.returncode == 1, result.stderr
    assert (document["status"], document["status_detail"]) == ("failed", "gate:coverage")
    records = {record["id"]: record for record in run.manifest()["commands"]}
    assert records["tests"]["worker"].startswith("tcp://")
    assert (records["slow"]["status"], records["deploy"]["status"]) == ("failed", "pending")
    assert records["slow"]["worker"].startswith("tcp://")
    assert run.error("03-slow")["reason"] == "cancelled"
    sleeper = int((tmp_path / "slow.pid").read_text())
    assert process_ended(sleeper)
