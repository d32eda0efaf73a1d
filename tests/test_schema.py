"""The shipped manifest JSON Schema: valid, faithful to the TypeScript tool, honoured by runs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from helpers import (
    command,
    manifest_errors,
    pipeline,
    sample_manifest,
    start_json,
    subpipeline,
    validate_manifest,
    write_config,
)

from codex_orchestrator.model import CommandRecord
from codex_orchestrator.schemas import manifest_schema

REPO_ROOT = Path(__file__).resolve().parents[1]

# The TypeScript tool's published manifest schema (version 0.2.1): the shared fields
# our manifests must keep, with their types. "null" in a type list means nullable.
TS_FIELDS: dict[str, dict[str, Any]] = {
    "version": {"type": ["integer"], "minimum": 1},
    "task_id": {"type": ["string"], "minLength": 1},
    "task_slug": {"type": ["string", "null"]},
    "run_id": {"type": ["string"], "minLength": 1},
    "parent_run_id": {"type": ["string", "null"]},
    "pipeline_id": {"type": ["string"], "minLength": 1},
    "pipeline_title": {"type": ["string"], "minLength": 1},
    "runner": {"type": ["string"], "const": "codex-cli"},
    "approval_policy": {"type": ["string", "null"]},
    "status": {
        "type": ["string"],
        "enum": ["queued", "in_progress", "succeeded", "failed", "cancelled"],
    },
    "status_detail": {"type": ["string", "null"]},
    "started_at": {"type": ["string"], "minLength": 1},
    "completed_at": {"type": ["string", "null"]},
    "updated_at": {"type": ["string"], "minLength": 1},
    "heartbeat_at": {"type": ["string", "null"]},
    "heartbeat_interval_seconds": {"type": ["integer"], "minimum": 1},
    "heartbeat_stale_after_seconds": {"type": ["integer"], "minimum": 1},
    "artifact_root": {"type": ["string"], "minLength": 1},
    "compat_path": {"type": ["string"], "minLength": 1},
    "log_path": {"type": ["string"], "minLength": 1},
    "summary": {"type": ["string", "null"]},
    "metrics_recorded": {"type": ["boolean"]},
    "resume_token": {"type": ["string"], "minLength": 1},
    "resume_events": {"type": ["array"]},
    "approvals": {"type": ["array"]},
    "commands": {"type": ["array"]},
    "child_runs": {"type": ["array"]},
    "run_summary_path": {"type": ["string", "null"]},
    "plan_target_id": {"type": ["string", "null"]},
    "runtime_mode_requested": {"type": ["string"], "enum": ["cli", "appserver"]},
    "runtime_mode": {"type": ["string"], "enum": ["cli", "appserver"]},
    "runtime_provider": {
        "type": ["string"],
        "enum": ["CliRuntimeProvider", "AppServerRuntimeProvider"],
    },
    "runtime_fallback": {"type": ["object", "null"]},
    "instructions_hash": {"type": ["string", "null"]},
    "instructions_sources": {"type": ["array"], "items": "string"},
}
TS_COMMAND_FIELDS: dict[str, dict[str, Any]] = {
    "index": {"type": ["integer"], "minimum": 1},
    "id": {"type": ["string"]},
    "title": {"type": ["string"]},
    "command": {"type": ["string", "null"]},
    "kind": {"type": ["string"], "enum": ["command", "subpipeline"]},
    "status": {
        "type": ["string"],
        "enum": ["pending", "running", "succeeded", "failed", "skipped"],
    },
    "started_at": {"type": ["string", "null"]},
    "completed_at": {"type": ["string", "null"]},
    "exit_code": {"type": ["integer", "null"]},
    "summary": {"type": ["string", "null"]},
    "log_path": {"type": ["string", "null"]},
    "error_file": {"type": ["string", "null"]},
    "sub_run_id": {"type": ["string", "null"]},
}
RESUME_EVENT_KEYS = {"timestamp", "actor", "reason", "outcome", "detail"}
CHILD_RUN_KEYS = {"run_id", "pipeline_id", "status", "manifest"}
APPROVAL_KEYS = {"actor", "timestamp", "reason"}

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/name``)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/$defs/"), ref
    resolved: dict[str, Any] = schema["$defs"][ref.removeprefix("#/$defs/")]
    return resolved


def _types(node: dict[str, Any]) -> set[str]:
    kind = node["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def _item_schema(schema: dict[str, Any], field: str) -> dict[str, Any]:
    return _resolve(schema, schema["properties"][field]["items"])


def _assert_agrees(schema: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    ours = _resolve(schema, ours)
    assert _types(ours) == set(theirs["type"])
    for keyword in ("minLength", "minimum", "const"):
        assert ours.get(keyword) == theirs.get(keyword), keyword
    if "enum" in theirs:
        assert sorted(ours["enum"]) == sorted(theirs["enum"])
    else:
        assert "enum" not in ours
    if "items" in theirs:
        assert _types(ours["items"]) == {theirs["items"]}


def _python_type_ok(value: object, allowed: list[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in allowed
    return any(isinstance(value, _PYTHON_TYPES[name]) for name in allowed)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The schema as shipped."""
    return manifest_schema()


def test_schema_is_a_valid_json_schema(schema: dict[str, Any]) -> None:
    """A schema validator accepts the schema itself, in the draft it declares."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_loader_returns_a_fresh_copy() -> None:
    """Editing the returned dict does not change what the next caller gets."""
    first = manifest_schema()
    first["properties"].clear()
    assert "run_id" in manifest_schema()["properties"]


@pytest.mark.parametrize("field", sorted(TS_FIELDS))
def test_shared_field_has_the_typescript_type(schema: dict[str, Any], field: str) -> None:
    """Each shared top-level field is required and typed as the TypeScript schema has it."""
    assert field in schema["required"]
    _assert_agrees(schema, schema["properties"][field], TS_FIELDS[field])


@pytest.mark.parametrize("field", sorted(TS_COMMAND_FIELDS))
def test_shared_command_field_has_the_typescript_type(schema: dict[str, Any], field: str) -> None:
    """Each shared ``commands[]`` field is required and typed as the TypeScript schema has it."""
    item = _item_schema(schema, "commands")
    assert field in item["required"]
    ours = dict(item["properties"][field])
    # Ids and titles are non-empty in both tools; the table only pins their type.
    ours.pop("minLength", None)
    _assert_agrees(schema, ours, TS_COMMAND_FIELDS[field])


def test_schema_describes_every_field_the_model_writes(schema: dict[str, Any]) -> None:
    """Top-level properties and ``required`` are exactly the keys ``to_dict`` writes."""
    written = set(sample_manifest().to_dict())
    # Runs with an artifact registry or gates also record these (LAYERS.md section 1).
    assert set(schema["properties"]) == written | {"artifacts", "gates"}
    assert set(schema["required"]) == written
    assert schema["additionalProperties"] is True


def test_command_items_describe_every_field_the_model_writes(schema: dict[str, Any]) -> None:
    """``commands[]`` items list exactly the keys a record writes, and nothing else is allowed."""
    item = _item_schema(schema, "commands")
    written = set(CommandRecord(index=1, id="a", title="A", command=None).to_dict())
    # Records of graph runs also write needs and blocked_by.
    graph = set(CommandRecord(index=1, id="a", title="A", command=None, needs=()).to_dict())
    assert graph - written == {"needs", "blocked_by"}
    assert set(item["properties"]) == graph
    assert set(item["required"]) == set(TS_COMMAND_FIELDS)
    assert item["additionalProperties"] is False


@pytest.mark.parametrize(
    ("field", "keys"),
    [
        ("resume_events", RESUME_EVENT_KEYS),
        ("child_runs", CHILD_RUN_KEYS),
        ("approvals", APPROVAL_KEYS),
    ],
)
def test_nested_records_are_exact(schema: dict[str, Any], field: str, keys: set[str]) -> None:
    """Resume events, child runs and approvals have exactly their documented keys."""
    item = _item_schema(schema, field)
    assert set(item["properties"]) == keys
    assert set(item["required"]) == keys
    assert item["additionalProperties"] is False


def test_model_output_validates() -> None:
    """What ``RunManifest.to_dict`` writes for a fresh run fits the schema."""
    validate_manifest(sample_manifest().to_dict())


def test_unknown_top_level_field_is_allowed() -> None:
    """Older manifests' extra fields are kept, so the top level accepts them."""
    document = {**sample_manifest().to_dict(), "issue_provider": "linear", "something_new": [1, 2]}
    assert manifest_errors(document) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["commands"][0].update(extra_key=1), "commands/0"),
        (lambda d: d["commands"][0].update(kind="script"), "commands/0/kind"),
        (lambda d: d["commands"][0].update(index=0), "commands/0/index"),
        (lambda d: d["commands"][0].pop("sub_run_id"), "commands/0"),
        (lambda d: d.update(status="done"), "status"),
        (lambda d: d.update(runner="codex-orchestrator"), "runner"),
        (lambda d: d.update(run_id=""), "run_id"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(metrics_recorded="yes"), "metrics_recorded"),
        (lambda d: d.update(runtime_provider="Other"), "runtime_provider"),
        (lambda d: d.update(instructions_sources=[1]), "instructions_sources/0"),
        (lambda d: d.pop("resume_token"), ""),
        (
            lambda d: d.update(
                resume_events=[
                    {
                        "timestamp": "t",
                        "actor": "a",
                        "reason": "r",
                        "outcome": "maybe",
                        "detail": None,
                    }
                ]
            ),
            "resume_events/0/outcome",
        ),
        (
            lambda d: d.update(
                resume_events=[
                    {"timestamp": "t", "actor": "a", "reason": "r", "outcome": "blocked"}
                ]
            ),
            "resume_events/0",
        ),
        (
            lambda d: d.update(
                child_runs=[
                    {"run_id": "r", "pipeline_id": "p", "status": "ok", "manifest": "m"},
                ]
            ),
            "child_runs/0/status",
        ),
        (
            lambda d: d.update(
                child_runs=[
                    {"run_id": "r", "pipeline_id": "p", "status": "failed", "manifest": "m", "x": 1}
                ]
            ),
            "child_runs/0",
        ),
        (
            lambda d: d.update(
                approvals=[{"actor": "a", "timestamp": "t", "reason": None, "y": 2}]
            ),
            "approvals/0",
        ),
    ],
)
def test_schema_rejects_what_the_contract_forbids(change: Any, where: str) -> None:
    """Each broken document fails validation at the field that breaks the contract."""
    document = sample_manifest().to_dict()
    change(document)
    errors = manifest_errors(document)
    assert errors, document
    assert any(error.split(": ", 1)[0] == where for error in errors), errors


@pytest.mark.integration
def test_a_real_manifest_has_every_shared_field_with_its_type(tmp_path: Path) -> None:
    """A run's ``manifest.json`` validates and carries each shared field, correctly typed."""
    write_config(
        tmp_path,
        pipeline(
            "ci",
            command("build", "echo built"),
            subpipeline("docs", "docs"),
            command("flaky", "exit 3", allowFailure=True),
        ),
        pipeline("docs", command("render", "echo rendered")),
    )
    result, _, run = start_json(tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = run.manifest()
    validate_manifest(manifest)
    for field, spec in TS_FIELDS.items():
        assert field in manifest, field
        assert _python_type_ok(manifest[field], spec["type"]), (field, manifest[field])
    assert len(manifest["commands"]) == 3
    for record in manifest["commands"]:
        for field, spec in TS_COMMAND_FIELDS.items():
            assert field in record, field
            assert _python_type_ok(record[field], spec["type"]), (field, record[field])
    child = manifest["child_runs"][0]
    assert set(child) == CHILD_RUN_KEYS
    child_manifest = tmp_path / child["manifest"]
    validate_manifest(orjson.loads(child_manifest.read_bytes()))


def test_schema_ships_in_the_wheel(tmp_path: Path) -> None:
    """A wheel built from the project holds the schema beside its loader."""
    out = tmp_path / "dist"
    out.mkdir()
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hatchling.build as b; print(b.build_wheel(sys.argv[1]))",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "codex_orchestrator/schemas/manifest.schema.json" in names
        assert "codex_orchestrator/schemas/__init__.py" in names
        shipped = archive.read("codex_orchestrator/schemas/manifest.schema.json")
    assert orjson.loads(shipped) == manifest_schema()
