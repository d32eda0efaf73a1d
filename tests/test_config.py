"""Loading and validating ``codex.orchestrator.json``: the API and, for errors, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from codex_orchestrator.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    load_config,
    resolve_config_path,
    select_pipeline,
)
from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model import CommandStage, Config, SubpipelineStage

NAME = DEFAULT_CONFIG_NAME


def cmd(stage_id: str, command: Any = "true", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "command",
        "id": stage_id,
        "title": stage_id.title(),
        "command": command,
        **extra,
    }


def sub(stage_id: str, pipeline: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "subpipeline", "id": stage_id, "title": stage_id, "pipeline": pipeline, **extra}


def ref(name: str) -> dict[str, Any]:
    return {"kind": "stage-set", "ref": name}


def pipe(pipeline_id: str, *stages: Any, **extra: Any) -> dict[str, Any]:
    return {"id": pipeline_id, "title": pipeline_id.upper(), "stages": list(stages), **extra}


def doc(*pipelines: Any, **top: Any) -> dict[str, Any]:
    return {**top, "pipelines": list(pipelines)}


def write(root: Path, document: Any, name: str = NAME) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def load(root: Path, document: Any) -> Config:
    write(root, document)
    return load_config(resolve_config_path(None, root), root)


def stage_ids(config: Config, pipeline_id: str) -> list[str]:
    return [stage.id for stage in config.pipelines[pipeline_id].stages]


# ---------------------------------------------------------------------------
# Errors: each names the file and the key path, through the API and the CLI.
# ---------------------------------------------------------------------------

ERROR_CASES: list[tuple[str, Any, str]] = [
    ("top-level-array", [], "top level must be a JSON object, got array"),
    ("top-level-string", '"x"', "top level must be a JSON object, got string"),
    ("pipelines-missing", {}, "pipelines: required array is missing"),
    ("pipelines-object", {"pipelines": {}}, "pipelines: must be an array, got object"),
    ("pipeline-not-object", doc("x"), "pipelines[0]: must be an object, got string"),
    (
        "pipeline-id-missing",
        doc({"title": "t", "stages": [cmd("a")]}),
        "pipelines[0].id: required string is missing",
    ),
    ("pipeline-id-empty", doc(pipe("", cmd("a"))), "pipelines[0].id: must be a non-empty string"),
    (
        "pipeline-id-number",
        doc({"id": 7, "title": "t", "stages": [cmd("a")]}),
        "pipelines[0].id: must be a string, got number",
    ),
    (
        "pipeline-title-missing",
        doc({"id": "p", "stages": [cmd("a")]}),
        "pipelines[0].title: required string is missing",
    ),
    (
        "pipeline-description-number",
        doc(pipe("p", cmd("a"), description=3)),
        "pipelines[0].description: must be a string, got number",
    ),
    (
        "guardrails-string",
        doc(pipe("p", cmd("a"), guardrailsRequired="true")),
        "pipelines[0].guardrailsRequired: must be true or false, got string",
    ),
    (
        "stages-missing",
        doc({"id": "p", "title": "t"}),
        "pipelines[0].stages: required array is missing",
    ),
    (
        "stages-object",
        doc({"id": "p", "title": "t", "stages": {}}),
        "pipelines[0].stages: must be an array, got object",
    ),
    ("stages-empty", doc(pipe("p")), "pipelines[0].stages: a pipeline needs at least one stage"),
    (
        "stage-not-object",
        doc(pipe("p", cmd("a"), "b")),
        "pipelines[0].stages[1]: must be an object, got string",
    ),
    (
        "kind-missing",
        doc(pipe("p", {"id": "a", "title": "A", "command": "x"})),
        "pipelines[0].stages[0].kind: required string is missing",
    ),
    (
        "kind-unknown",
        doc(pipe("p", cmd("a"), {"kind": "shell", "id": "b"})),
        (
            'pipelines[0].stages[1].kind: unknown stage kind "shell" '
            "(expected command, subpipeline or stage-set)"
        ),
    ),
    (
        "stage-id-missing",
        doc(pipe("p", {"kind": "command", "title": "A", "command": "x"})),
        "pipelines[0].stages[0].id: required string is missing",
    ),
    (
        "stage-title-empty",
        doc(pipe("p", cmd("a", title=" "))),
        "pipelines[0].stages[0].title: must be a non-empty string",
    ),
    (
        "command-missing",
        doc(pipe("p", cmd("a"), cmd("b"), {"kind": "command", "id": "c", "title": "C"})),
        "pipelines[0].stages[2].command: required string is missing",
    ),
    (
        "command-empty",
        doc(pipe("p", cmd("a", ""))),
        "pipelines[0].stages[0].command: must be a non-empty string",
    ),
    (
        "command-array",
        doc(pipe("p", cmd("a", ["ls"]))),
        "pipelines[0].stages[0].command: must be a string, got array",
    ),
    (
        "cwd-number",
        doc(pipe("p", cmd("a", cwd=1))),
        "pipelines[0].stages[0].cwd: must be a string, got number",
    ),
    (
        "timeout-zero",
        doc(pipe("p", cmd("a", timeoutMs=0))),
        "pipelines[0].stages[0].timeoutMs: must be a positive integer, got 0",
    ),
    (
        "timeout-negative",
        doc(pipe("p", cmd("a", timeoutMs=-5))),
        "pipelines[0].stages[0].timeoutMs: must be a positive integer, got -5",
    ),
    (
        "timeout-float",
        doc(pipe("p", cmd("a", timeoutMs=1.5))),
        "pipelines[0].stages[0].timeoutMs: must be a positive integer, got 1.5",
    ),
    (
        "timeout-string",
        doc(pipe("p", cmd("a", timeoutMs="100"))),
        "pipelines[0].stages[0].timeoutMs: must be a positive integer, got string",
    ),
    (
        "timeout-bool",
        doc(pipe("p", cmd("a", timeoutMs=True))),
        "pipelines[0].stages[0].timeoutMs: must be a positive integer, got boolean",
    ),
    (
        "env-array",
        doc(pipe("p", cmd("a", env=["A=1"]))),
        "pipelines[0].stages[0].env: must be an object of strings, got array",
    ),
    (
        "env-value-number",
        doc(pipe("p", cmd("a", env={"A": "1", "B": 2}))),
        "pipelines[0].stages[0].env.B: must be a string, got number",
    ),
    (
        "env-name-invalid",
        doc(pipe("p", cmd("a", env={"A=B": "1"}))),
        'pipelines[0].stages[0].env["A=B"]: not a valid environment variable name',
    ),
    (
        "env-value-nul",
        doc(pipe("p", cmd("a", env={"A": "x\u0000y"}))),
        "pipelines[0].stages[0].env.A: must not contain a NUL character",
    ),
    (
        "allow-failure-string",
        doc(pipe("p", cmd("a", allowFailure="yes"))),
        "pipelines[0].stages[0].allowFailure: must be true or false, got string",
    ),
    (
        "optional-number",
        doc(pipe("p", sub("s", "q", optional=1)), pipe("q", cmd("a"))),
        "pipelines[0].stages[0].optional: must be true or false, got number",
    ),
    (
        "subpipeline-target-missing",
        doc(pipe("p", {"kind": "subpipeline", "id": "s", "title": "S"})),
        "pipelines[0].stages[0].pipeline: required string is missing",
    ),
    (
        "duplicate-pipeline",
        doc(pipe("a", cmd("x")), pipe("b", cmd("x")), pipe("a", cmd("y"))),
        'pipelines[2].id: duplicate pipeline id "a" (first at pipelines[0].id)',
    ),
    (
        "duplicate-stage",
        doc(pipe("p", cmd("a"), cmd("b"), cmd("a"))),
        (
            'pipelines[0].stages[2].id: duplicate stage id "a" in pipeline "p"; '
            "first at pipelines[0].stages[0].id"
        ),
    ),
    (
        "duplicate-stage-from-set",
        doc(
            pipe("p", cmd("lint"), ref("checks")), stageSets={"checks": [cmd("test"), cmd("lint")]}
        ),
        (
            "stageSets.checks[1].id (included by pipelines[0].stages[1].ref): "
            'duplicate stage id "lint" in pipeline "p"; first at pipelines[0].stages[0].id'
        ),
    ),
    (
        "set-included-twice",
        doc(pipe("p", ref("checks"), ref("checks")), stageSets={"checks": [cmd("test")]}),
        (
            "stageSets.checks[0].id (included by pipelines[0].stages[1].ref): "
            'duplicate stage id "test" in pipeline "p"; '
            "first at stageSets.checks[0].id (included by pipelines[0].stages[0].ref)"
        ),
    ),
    (
        "unknown-set",
        doc(pipe("p", ref("chekcs")), stageSets={"checks": [cmd("a")], "more": []}),
        'pipelines[0].stages[0].ref: unknown stage set "chekcs" (known: checks, more)',
    ),
    (
        "unknown-set-none-defined",
        doc(pipe("p", ref("checks"))),
        'pipelines[0].stages[0].ref: unknown stage set "checks" (no stageSets are defined)',
    ),
    (
        "set-ref-missing",
        doc(pipe("p", {"kind": "stage-set"})),
        "pipelines[0].stages[0].ref: required string is missing",
    ),
    (
        "stage-sets-array",
        doc(pipe("p", cmd("a")), stageSets=[]),
        "stageSets: must be an object, got array",
    ),
    (
        "stage-set-object",
        doc(pipe("p", cmd("a")), stageSets={"checks": {}}),
        "stageSets.checks: must be an array, got object",
    ),
    (
        "set-entry-bad",
        doc(pipe("p", cmd("a")), stageSets={"checks": [cmd("x", timeoutMs=0)]}),
        "stageSets.checks[0].timeoutMs: must be a positive integer, got 0",
    ),
    (
        "set-cycle",
        doc(pipe("p", ref("a")), stageSets={"a": [cmd("x"), ref("b")], "b": [ref("a")]}),
        "stageSets.b[0].ref: stage set cycle: a -> b -> a",
    ),
    (
        "set-self-cycle",
        doc(pipe("p", cmd("x")), stageSets={"loop": [ref("loop")]}),
        "stageSets.loop[0].ref: stage set cycle: loop -> loop",
    ),
    (
        "set-name-quoted",
        doc(pipe("p", cmd("x")), stageSets={"a.b": [7]}),
        'stageSets["a.b"][0]: must be an object, got number',
    ),
    (
        "only-empty-set",
        doc(pipe("p", ref("none")), stageSets={"none": []}),
        "pipelines[0].stages: a pipeline needs at least one stage",
    ),
    (
        "subpipeline-unknown",
        doc(pipe("p", cmd("a"), sub("s", "nope"))),
        'pipelines[0].stages[1].pipeline: unknown pipeline "nope" (known: p, diagnostics)',
    ),
    (
        "subpipeline-cycle",
        doc(pipe("a", sub("to-b", "b")), pipe("b", cmd("x"), sub("to-a", "a"))),
        "pipelines[1].stages[1].pipeline: subpipeline cycle: a -> b -> a",
    ),
    (
        "subpipeline-self",
        doc(pipe("a", cmd("x"), sub("again", "a"))),
        "pipelines[0].stages[1].pipeline: subpipeline cycle: a -> a",
    ),
    (
        "subpipeline-cycle-via-set",
        doc(pipe("a", ref("s")), stageSets={"s": [sub("loop", "a")]}),
        "stageSets.s[0].pipeline: subpipeline cycle: a -> a",
    ),
    (
        "default-unknown",
        doc(pipe("p", cmd("a")), defaultPipeline="ci"),
        'defaultPipeline: unknown pipeline "ci" (known: p, diagnostics)',
    ),
    (
        "default-number",
        doc(pipe("p", cmd("a")), defaultPipeline=1),
        "defaultPipeline: must be a string, got number",
    ),
    (
        "invalid-json",
        '{\n  "pipelines": [\n    {"id" "x"}\n  ]\n}',
        "invalid JSON at line 3, column 11: unexpected character, expected ':' after key",
    ),
    ("empty-file", "", "invalid JSON at line 1, column 1: Input is a zero-length, empty document"),
]


@pytest.mark.parametrize(
    ("document", "message"),
    [pytest.param(document, message, id=case) for case, document, message in ERROR_CASES],
)
def test_config_errors_name_the_file_and_key_path(
    tmp_path: Path, document: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, document)
    assert str(caught.value) == f"{NAME}: {message}"


@pytest.mark.parametrize(
    ("document", "message"),
    [pytest.param(document, message, id=case) for case, document, message in ERROR_CASES],
)
def test_config_errors_exit_2_through_the_cli(
    tmp_path: Path, run_cli: Callable[..., Result], document: Any, message: str
) -> None:
    write(tmp_path, document)
    result = run_cli("plan", "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == f"codex-orchestrator: error: {NAME}: {message}\n"
    assert result.stdout == ""


def test_error_names_the_file_as_given(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    write(tmp_path, doc(pipe("p", cmd("a", timeoutMs=0))), "conf/ci.json")
    result = run_cli("plan", "--config", "conf/ci.json")
    assert result.exit_code == 2
    expected = "conf/ci.json: pipelines[0].stages[0].timeoutMs: must be a positive integer, got 0"
    assert result.stderr == f"codex-orchestrator: error: {expected}\n"


def test_invalid_utf8_is_reported_with_its_offset(tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b'{"pipelines": ["\xff"]}')
    with pytest.raises(
        ConfigError, match=r"^codex\.orchestrator\.json: not valid UTF-8 at byte offset 16$"
    ):
        load_config(tmp_path / NAME, tmp_path)


def test_unreadable_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(Path("dir.json"), tmp_path)
    assert str(caught.value).startswith("dir.json: cannot read file: ")
    assert "\n" not in str(caught.value)


def test_os_error_while_reading_is_one_line(tmp_path: Path) -> None:
    # A symlink loop fails to open even for root (permissions would not).
    path = tmp_path / NAME
    path.symlink_to(path)
    with pytest.raises(ConfigError, match=r"^codex\.orchestrator\.json: cannot read file: "):
        load_config(path, tmp_path)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"\xef\xbb\xbf" + json.dumps(doc(pipe("p", cmd("a")))).encode())
    assert stage_ids(load_config(tmp_path / NAME, tmp_path), "p") == ["a"]


# ---------------------------------------------------------------------------
# Finding the file
# ---------------------------------------------------------------------------


def test_no_config_anywhere_resolves_to_none(tmp_path: Path) -> None:
    assert resolve_config_path(None, tmp_path) is None


def test_default_file_at_the_root_is_found(tmp_path: Path) -> None:
    path = write(tmp_path, doc(pipe("p", cmd("a"))))
    assert resolve_config_path(None, tmp_path) == path


def test_env_var_beats_default_and_flag_beats_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, doc(pipe("p", cmd("a"))))
    env_path = write(tmp_path, doc(pipe("p", cmd("a"))), "env.json")
    flag_path = write(tmp_path, doc(pipe("p", cmd("a"))), "flag.json")
    monkeypatch.setenv(CONFIG_ENV, str(env_path))
    assert resolve_config_path(None, tmp_path) == env_path
    assert resolve_config_path(flag_path, tmp_path) == flag_path


def test_empty_env_var_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, "")
    assert resolve_config_path(None, tmp_path) is None


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config_path(Path("missing.json"), tmp_path)
    assert str(caught.value) == "missing.json: config file not found (from --config)"


def test_missing_env_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, "gone.json")
    with pytest.raises(ConfigError) as caught:
        resolve_config_path(None, tmp_path)
    assert str(caught.value) == f"gone.json: config file not found (from ${CONFIG_ENV})"


def test_directory_as_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    with pytest.raises(ConfigError) as caught:
        resolve_config_path(Path("conf"), tmp_path)
    assert str(caught.value) == "conf: is a directory, not a config file (from --config)"


def test_display_name_is_relative_for_the_default_and_as_given_otherwise(tmp_path: Path) -> None:
    assert load(tmp_path, doc(pipe("p", cmd("a")))).path == NAME
    outside = write(tmp_path / "elsewhere", doc(pipe("p", cmd("a"))), "x.json")
    assert load_config(outside, tmp_path / "repo").path == str(outside)
    assert load_config(Path("elsewhere/x.json"), tmp_path).path == "elsewhere/x.json"


# ---------------------------------------------------------------------------
# What a valid config becomes
# ---------------------------------------------------------------------------


def test_no_config_means_only_diagnostics(tmp_path: Path) -> None:
    config = load_config(None, tmp_path)
    assert list(config.pipelines) == ["diagnostics"]
    assert config.path is None
    assert config.warnings == ()
    assert select_pipeline(config, None).title == "Diagnostics"


def test_fields_are_mapped_and_order_preserved(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        doc(
            pipe(
                "ci",
                cmd(
                    "build",
                    "make all",
                    cwd="sub",
                    env={"A": "1"},
                    allowFailure=True,
                    summaryHint="see log",
                    timeoutMs=5000,
                ),
                sub("docs", "docs", optional=True),
                cmd("zeta", cwd=None),
                description="Everything",
                guardrailsRequired=False,
            ),
            pipe("docs", cmd("mkdocs", "mkdocs build")),
            defaultPipeline="ci",
        ),
    )
    ci = config.pipelines["ci"]
    assert list(config.pipelines) == ["ci", "docs", "diagnostics"]
    assert config.default_pipeline == "ci"
    assert (ci.title, ci.description, ci.guardrails_required) == ("CI", "Everything", False)
    assert ci.stages[0] == CommandStage(
        id="build",
        title="Build",
        command="make all",
        cwd="sub",
        env={"A": "1"},
        allow_failure=True,
        summary_hint="see log",
        timeout_ms=5000,
    )
    assert ci.stages[1] == SubpipelineStage(id="docs", title="docs", pipeline="docs", optional=True)
    assert ci.stages[2] == CommandStage(id="zeta", title="Zeta", command="true")
    assert ci.requires_guardrails is False


def test_own_diagnostics_pipeline_replaces_the_embedded_one(tmp_path: Path) -> None:
    config = load(tmp_path, doc(pipe("diagnostics", cmd("only"))))
    assert list(config.pipelines) == ["diagnostics"]
    assert stage_ids(config, "diagnostics") == ["only"]


def test_subpipeline_may_name_the_embedded_diagnostics(tmp_path: Path) -> None:
    config = load(tmp_path, doc(pipe("ci", cmd("a"), sub("diag", "diagnostics"))))
    assert stage_ids(config, "diagnostics") == ["build", "lint", "test", "spec-guard"]


def test_stage_sets_expand_in_place_nested_with_their_own_ids(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        doc(
            pipe("ci", cmd("build"), ref("checks"), cmd("deploy")),
            pipe("quick", ref("base")),
            stageSets={
                "checks": [ref("base"), cmd("test", "pytest")],
                "base": [cmd("lint", "ruff check ."), cmd("types", "mypy")],
            },
        ),
    )
    assert stage_ids(config, "ci") == ["build", "lint", "types", "test", "deploy"]
    assert stage_ids(config, "quick") == ["lint", "types"]
    lint = config.pipelines["ci"].stages[1]
    assert isinstance(lint, CommandStage)
    assert lint.command == "ruff check ."


def test_diamond_of_sets_is_not_a_cycle(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        doc(
            pipe("p", ref("left"), ref("right")),
            stageSets={"left": [ref("leaf"), cmd("l")], "right": [cmd("r")], "leaf": [cmd("x")]},
        ),
    )
    assert stage_ids(config, "p") == ["x", "l", "r"]


def test_subpipeline_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        doc(
            pipe("top", sub("a", "left"), sub("b", "right")),
            pipe("left", sub("c", "leaf")),
            pipe("right", sub("d", "leaf")),
            pipe("leaf", cmd("x")),
        ),
    )
    assert stage_ids(config, "top") == ["a", "b"]


def test_null_optional_fields_read_as_absent(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        doc(pipe("p", cmd("a", cwd=None, env=None, timeoutMs=None), description=None)),
    )
    assert config.pipelines["p"].stages[0] == CommandStage(id="a", title="A", command="true")


def test_unknown_keys_warn_once_each_with_key_path(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "$schema": "https://example.invalid/schema.json",
            "extra": 1,
            "stageSets": {"checks": [cmd("lint", colour="red")], "more": []},
            "pipelines": [
                pipe("a", ref("checks"), owner="me"),
                pipe("b", cmd("t", foo=1), ref("checks")),
            ],
        },
    )
    # The set is used twice but warned about once; "$schema" is expected, not unknown.
    assert config.warnings == (
        f"{NAME}: extra: unknown key (ignored)",
        f"{NAME}: stageSets.checks[0].colour: unknown key (ignored)",
        f"{NAME}: pipelines[0].owner: unknown key (ignored)",
        f"{NAME}: pipelines[1].stages[0].foo: unknown key (ignored)",
    )


def test_unknown_key_on_a_stage_set_reference_warns(tmp_path: Path) -> None:
    config = load(tmp_path, doc(pipe("p", {**ref("s"), "title": "x"}), stageSets={"s": [cmd("a")]}))
    assert config.warnings == (f"{NAME}: pipelines[0].stages[0].title: unknown key (ignored)",)


def test_unknown_key_warnings_reach_stderr_only(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    write(tmp_path, doc(pipe("p", cmd("a", retries=3))))
    result = run_cli("plan", "p", "--format", "json")
    assert result.exit_code == 0
    warning = f"{NAME}: pipelines[0].stages[0].retries: unknown key (ignored)"
    assert result.stderr == f"codex-orchestrator: warning: {warning}\n"
    assert json.loads(result.stdout)["pipeline_id"] == "p"


# ---------------------------------------------------------------------------
# Choosing a pipeline
# ---------------------------------------------------------------------------


def test_select_uses_name_then_default_then_diagnostics(tmp_path: Path) -> None:
    with_default = load(
        tmp_path, doc(pipe("a", cmd("x")), pipe("b", cmd("y")), defaultPipeline="b")
    )
    assert select_pipeline(with_default, None).id == "b"
    assert select_pipeline(with_default, "a").id == "a"
    without_default = load(tmp_path, doc(pipe("a", cmd("x"))))
    assert select_pipeline(without_default, None).id == "diagnostics"


def test_select_unknown_lists_known_ids(tmp_path: Path) -> None:
    config = load(tmp_path, doc(pipe("a", cmd("x")), pipe("b", cmd("y"))))
    with pytest.raises(ConfigError) as caught:
        select_pipeline(config, "c")
    assert str(caught.value) == f'unknown pipeline "c" ({NAME}; known: a, b, diagnostics)'
    with pytest.raises(ConfigError) as caught:
        select_pipeline(load_config(None, tmp_path), "ci")
    assert str(caught.value) == f'unknown pipeline "ci" (no {NAME}; known: diagnostics)'


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_fixture_ok = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_fixture_ok
@given(ids=st.lists(_ids, min_size=1, max_size=12, unique=True), data=st.data())
def test_expansion_preserves_order_however_stages_are_split_into_sets(
    tmp_path: Path, ids: list[str], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(ids)), max_size=len(ids))) | {len(ids)})
    chunks: list[list[str]] = []
    start = 0
    for cut in cuts:
        chunks.append(ids[start:cut])
        start = cut
    sets: dict[str, list[dict[str, Any]]] = {}
    stages: list[dict[str, Any]] = []
    for number, chunk in enumerate(chunks):
        items = [cmd(stage_id, f"echo {stage_id}") for stage_id in chunk]
        if data.draw(st.booleans(), label=f"chunk {number} as a set"):
            sets[f"set{number}"] = items
            stages.append(ref(f"set{number}"))
        else:
            stages.extend(items)
    config = load(tmp_path, doc(pipe("p", *stages), stageSets=sets))
    assert stage_ids(config, "p") == ids
    assert [s.command for s in config.pipelines["p"].stages if isinstance(s, CommandStage)] == [
        f"echo {stage_id}" for stage_id in ids
    ]


@_fixture_ok
@given(value=_json)
def test_timeout_is_a_positive_integer_or_a_keyed_error(tmp_path: Path, value: Any) -> None:
    document = doc(pipe("p", cmd("a", timeoutMs=value)))
    if value is None or (type(value) is int and value > 0):
        stage = load(tmp_path, document).pipelines["p"].stages[0]
        assert isinstance(stage, CommandStage)
        assert stage.timeout_ms == value
        return
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, document)
    prefix = f"{NAME}: pipelines[0].stages[0].timeoutMs: must be a positive integer, got "
    assert str(caught.value).startswith(prefix)


@_fixture_ok
@given(
    document=_json
    | st.dictionaries(st.sampled_from(["pipelines", "stageSets", "defaultPipeline"]), _json)
)
def test_any_json_document_loads_or_raises_one_line_config_error(
    tmp_path: Path, document: Any
) -> None:
    try:
        load(tmp_path, document)
    except ConfigError as error:
        message = str(error)
    else:
        return
    assert message.startswith(f"{NAME}: ")
    assert "\n" not in message


def test_fixture_helpers_write_where_load_reads(tmp_path: Path) -> None:
    # Guards the helpers above: a config written elsewhere must not be picked up.
    write(tmp_path / "nested", doc(pipe("p", cmd("a"))))
    assert load_config(resolve_config_path(None, tmp_path), tmp_path).path is None


@pytest.mark.integration
def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path) -> None:
    """timeout_ms / timeoutms: warned, ignored, and the right spelling suggested."""
    import subprocess
    import sys

    stage: dict[str, Any] = {"kind": "command", "id": "a", "title": "a", "command": "true"}
    stage |= {"timeout_ms": 5, "allowfailure": True, "colour": "red"}
    document = {"pipelines": [{"id": "p", "title": "p", "stages": [stage]}]}
    (tmp_path / "codex.orchestrator.json").write_text(json.dumps(document))
    result = subprocess.run(
        [sys.executable, "-m", "codex_orchestrator", "plan"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    prefix = "codex-orchestrator: warning: codex.orchestrator.json: pipelines[0].stages[0]."
    assert result.stderr.splitlines() == [
        f"{prefix}timeout_ms: unknown key (ignored); did you mean timeoutMs?",
        f"{prefix}allowfailure: unknown key (ignored); did you mean allowFailure?",
        f"{prefix}colour: unknown key (ignored)",
    ]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=8),
            st.text(min_size=1, max_size=8),
            st.text(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_plain_stages_read_as_the_full_reading_reads_them(
    tmp_path: Path, texts: list[tuple[str, str, str]]
) -> None:
    """``{kind, id, title, command}`` stages take a short path; it gives what the full
    reading gives (an extra null key sends a stage through the full reading), and it
    refuses exactly what the full reading refuses (blank ids, titles, commands)."""

    def load(extra: dict[str, Any]) -> Config | str:
        stages = [
            {"kind": "command", "id": i, "title": t, "command": c, **extra} for i, t, c in texts
        ]
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"pipelines": [{"id": "p", "title": "p", "stages": stages}]}))
        try:
            return load_config(path, tmp_path)
        except ConfigError as exc:
            return str(exc)

    plain, full = load({}), load({"cwd": None})
    if isinstance(plain, str) or isinstance(full, str):
        assert plain == full
    else:
        assert plain.pipelines["p"] == full.pipelines["p"]
