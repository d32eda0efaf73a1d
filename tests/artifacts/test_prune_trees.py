"""Retention counts run trees: a subpipeline's child run goes with its parent, never alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import RunFiles, command, pipeline, start_json, subpipeline, write_config

from .kept import cli_json, get_bytes, instance_dir

pytestmark = pytest.mark.integration

OWN = 'echo "$CODEX_ORCHESTRATOR_RUN_ID" > "$CODEX_ORCHESTRATOR_WORKSPACE/{name}.txt"'


def _child(run: RunFiles) -> RunFiles:
    (child,) = run.manifest()["child_runs"]
    return RunFiles(run.project, run.task_id, child["run_id"])


def _kept(project: Path, run: RunFiles) -> bool:
    """The run's own file and its child's, through the parent's tree, as ``get`` reads them."""
    own = get_bytes(project, run.run_id, "01-own/own.txt")
    nested = get_bytes(project, run.run_id, "02-nested/01-inner/inner.txt")
    if own.returncode != 0 or nested.returncode != 0:
        return False
    assert own.stdout.decode().strip() == run.run_id
    assert nested.stdout.decode().strip() == _child(run).run_id
    return True


def test_keep_last_counts_top_level_runs_and_takes_children_along(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        pipeline("parent", command("own", OWN.format(name="own")), subpipeline("nested", "child")),
        pipeline("child", command("inner", OWN.format(name="inner"))),
    )
    document = json.loads(config.read_text())
    document["artifacts"] = {"retention": {"keepLast": 2}}
    config.write_text(json.dumps(document))
    runs = [start_json(tmp_path, "parent")[2] for _ in range(3)]
    # After the third run the config's retention keeps two runs: two trees, not one.
    assert [_kept(tmp_path, run) for run in runs] == [False, True, True]
    first_child = _child(runs[0])
    assert first_child.manifest()["artifacts_pruned_at"]
    assert not (instance_dir(first_child, "01-inner") / "workspace").exists()
    assert "artifacts_pruned_at" not in _child(runs[1]).manifest()
    dry = cli_json(tmp_path, "artifacts", "prune", "--keep-last", "1", "--dry-run")
    assert {r["run_id"] for r in dry["pruned"]} == {runs[1].run_id, _child(runs[1]).run_id}
    done = cli_json(tmp_path, "artifacts", "prune", "--keep-last", "1")
    assert {r["run_id"] for r in done["pruned"]} == {runs[1].run_id, _child(runs[1]).run_id}
    assert [_kept(tmp_path, run) for run in runs] == [False, False, True]
    assert (instance_dir(_child(runs[2]), "01-inner") / "workspace/inner.txt").is_file()
