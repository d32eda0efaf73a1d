"""``codex-orchestrator plan`` through the real CLI: output, errors, and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

Run = Callable[..., Result]

PLAN_KEYS = {
    "pipeline_id",
    "plan_target_id",
    "title",
    "description",
    "config_path",
    "guardrails_required",
    "stages",
}
STAGE_KEYS = {
    "index",
    "id",
    "title",
    "kind",
    "command",
    "cwd",
    "env",
    "allow_failure",
    "timeout_ms",
    "summary_hint",
    "guardrail",
    "skip_reason",
    "pipeline",
    "optional",
    "stages",
    "needs",
    "if",
    "level",
    "produces",
    "consumes",
}

CONFIG: dict[str, Any] = {
    "defaultPipeline": "ci",
    "stageSets": {
        "checks": [
            {"kind": "command", "id": "lint", "title": "Lint", "command": "ruff check ."},
            {"kind": "stage-set", "ref": "more"},
        ],
        "more": [{"kind": "command", "id": "types", "title": "Types", "command": "mypy"}],
    },
    "pipelines": [
        {
            "id": "ci",
            "title": "Continuous integration",
            "description": "What CI runs",
            "stages": [
                {
                    "kind": "command",
                    "id": "build",
                    "title": "Build",
                    "command": "make",
                    "cwd": "sub",
                    "env": {"B": "2", "A": "1"},
                    "allowFailure": True,
                    "summaryHint": "see build log",
                    "timeoutMs": 5000,
                },
                {"kind": "stage-set", "ref": "checks"},
                {"kind": "subpipeline", "id": "docs", "title": "Docs", "pipeline": "docs"},
                {
                    "kind": "command",
                    "id": "spec-guard",
                    "title": "Spec guard",
                    "command": "bash scripts/spec-guard.sh",
                },
            ],
        },
        {
            "id": "docs",
            "title": "Docs",
            "stages": [
                {"kind": "command", "id": "html", "title": "HTML", "command": "mkdocs build"},
                {
                    "kind": "subpipeline",
                    "id": "diag",
                    "title": "Diagnostics",
                    "pipeline": "diagnostics",
                    "optional": True,
                },
            ],
        },
    ],
}


def write_config(root: Path, document: Any = None, name: str = "codex.orchestrator.json") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(CONFIG if document is None else document), encoding="utf-8")
    return path


def plan_json(run_cli: Run, *args: str) -> dict[str, Any]:
    result = run_cli("plan", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def ids(stages: list[dict[str, Any]]) -> list[str]:
    return [stage["id"] for stage in stages]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
    }


def test_help_explains_the_command(run_cli: Run) -> None:
    result = run_cli("plan", "--help")
    assert result.exit_code == 0
    for text in ("[PIPELINE]", "Nothing is run", "--format", "--config", "defaultPipeline"):
        assert text in result.stdout


def test_without_config_plans_the_embedded_diagnostics(run_cli: Run) -> None:
    data = plan_json(run_cli)
    assert set(data) == PLAN_KEYS
    assert data["pipeline_id"] == "diagnostics"
    assert data["config_path"] is None
    assert data["guardrails_required"] is True
    assert ids(data["stages"]) == ["build", "lint", "test", "spec-guard"]
    guard = data["stages"][3]
    assert set(guard) == STAGE_KEYS
    assert guard == {
        "index": 4,
        "id": "spec-guard",
        "title": "Spec guard",
        "kind": "command",
        "command": None,
        "cwd": None,
        "env": {},
        "allow_failure": False,
        "timeout_ms": None,
        "summary_hint": None,
        "guardrail": True,
        "skip_reason": "skipped: no scripts/spec-guard.* found",
        "pipeline": None,
        "optional": None,
        "stages": None,
        "needs": ["test"],
        "if": "success",
        "level": 4,
        "produces": [],
        "consumes": [],
    }


def test_text_output_is_a_readable_table(run_cli: Run) -> None:
    result = run_cli("plan")
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Pipeline diagnostics: Diagnostics"
    assert "Config: built-in (no config file)  Guardrails: required" in result.stdout
    assert "skipped: no scripts/spec-guard.* found" in result.stdout


def test_json_resolves_sets_and_nests_subpipelines(tmp_path: Path, run_cli: Run) -> None:
    write_config(tmp_path)
    data = plan_json(run_cli)
    assert (data["pipeline_id"], data["title"], data["description"]) == (
        "ci",
        "Continuous integration",
        "What CI runs",
    )
    assert data["config_path"] == "codex.orchestrator.json"
    assert data["guardrails_required"] is True
    stages = data["stages"]
    assert ids(stages) == ["build", "lint", "types", "docs", "spec-guard"]
    assert [stage["index"] for stage in stages] == [1, 2, 3, 4, 5]
    assert stages[0] == {
        "index": 1,
        "id": "build",
        "title": "Build",
        "kind": "command",
        "command": "make",
        "cwd": "sub",
        "env": {"B": "2", "A": "1"},
        "allow_failure": True,
        "timeout_ms": 5000,
        "summary_hint": "see build log",
        "guardrail": False,
        "skip_reason": None,
        "pipeline": None,
        "optional": None,
        "stages": None,
        "needs": [],
        "if": "success",
        "level": 1,
        "produces": [],
        "consumes": [],
    }
    docs = stages[3]
    assert set(docs) == STAGE_KEYS
    assert (docs["kind"], docs["pipeline"], docs["optional"], docs["command"]) == (
        "subpipeline",
        "docs",
        False,
        None,
    )
    assert ids(docs["stages"]) == ["html", "diag"]
    diag = docs["stages"][1]
    assert (diag["index"], diag["pipeline"], diag["optional"]) == (2, "diagnostics", True)
    assert ids(diag["stages"]) == ["build", "lint", "test", "spec-guard"]
    assert stages[4]["guardrail"] is True


def test_text_shows_nested_stages_and_notes(tmp_path: Path, run_cli: Run) -> None:
    write_config(tmp_path)
    result = run_cli("plan")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == "Pipeline ci: Continuous integration"
    assert "What CI runs" in out
    assert "Config: codex.orchestrator.json  Guardrails: required" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isdigit()}
    assert set(rows) >= {"1", "2", "3", "4", "4.1", "4.2", "4.2.1", "4.2.4", "5"}
    assert "subpipeline docs" in rows["4"]
    assert "  html" in rows["4.1"]
    assert "    build" in rows["4.2.1"]
    assert "subpipeline diagnostics" in rows["4.2"]
    # Notes are printed under the command, on the stage's next line.
    after = dict(zip(out.splitlines(), out.splitlines()[1:], strict=False))
    assert after[rows["4.2"]].strip() == "optional"
    assert after[rows["1"]].strip().startswith("failure allowed, timeout 5000 ms")
    for note in ("cwd", "env A B", "hint: see build log"):
        assert note in out


def test_pipeline_argument_overrides_the_default(tmp_path: Path, run_cli: Run) -> None:
    write_config(tmp_path)
    data = plan_json(run_cli, "docs")
    assert data["pipeline_id"] == "docs"
    assert data["guardrails_required"] is False
    assert plan_json(run_cli, "diagnostics")["pipeline_id"] == "diagnostics"


def test_unknown_pipeline_exits_2_with_known_ids(tmp_path: Path, run_cli: Run) -> None:
    write_config(tmp_path)
    result = run_cli("plan", "release")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        'codex-orchestrator: error: unknown pipeline "release" '
        "(codex.orchestrator.json; known: ci, docs, diagnostics)\n"
    )


def test_config_option_and_env_var(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path)  # the default file, which both overrides must beat
    single = {
        "pipelines": [{"id": "one", "title": "One", "stages": [CONFIG["stageSets"]["more"][0]]}]
    }
    write_config(tmp_path, single | {"defaultPipeline": "one"}, "conf/flag.json")
    write_config(tmp_path, {"pipelines": [], "defaultPipeline": "diagnostics"}, "env.json")
    monkeypatch.setenv("CODEX_ORCHESTRATOR_REPO_CONFIG_PATH", "env.json")
    from_env = plan_json(run_cli)
    assert (from_env["pipeline_id"], from_env["config_path"]) == ("diagnostics", "env.json")
    from_flag = plan_json(run_cli, "--config", "conf/flag.json")
    assert (from_flag["pipeline_id"], from_flag["config_path"]) == ("one", "conf/flag.json")


def test_missing_config_file_exits_2(run_cli: Run) -> None:
    result = run_cli("plan", "--config", "nope.json")
    assert result.exit_code == 2
    assert result.stderr == (
        "codex-orchestrator: error: nope.json: config file not found (from --config)\n"
    )


def test_repo_root_env_var_finds_the_config_there(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    write_config(repo)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("CODEX_ORCHESTRATOR_ROOT", str(repo))
    data = plan_json(run_cli)
    assert (data["pipeline_id"], data["config_path"]) == ("ci", "codex.orchestrator.json")


def test_bad_format_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("plan", "--format", "yaml")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_markup_in_commands_is_printed_literally(tmp_path: Path, run_cli: Run) -> None:
    stage = {"kind": "command", "id": "x", "title": "[red]T[/red]", "command": "echo [bold]y[/]"}
    write_config(tmp_path, {"pipelines": [{"id": "p", "title": "P", "stages": [stage]}]})
    result = run_cli("plan", "p")
    assert result.exit_code == 0, result.output
    assert "echo [bold]y[/]" in result.stdout
    assert "[red]T[/red]" in result.stdout


@pytest.mark.parametrize("output", ["text", "json"])
def test_plan_writes_nothing(tmp_path: Path, run_cli: Run, output: str) -> None:
    write_config(tmp_path)
    for name in ("pyproject.toml", "pkg/__init__.py", "tests/test_a.py", "scripts/spec-guard.sh"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli("plan", "--format", output)
    assert result.exit_code == 0, result.output
    assert snapshot(tmp_path) == before
    assert not (tmp_path / ".runs").exists()


def test_cli_module_imports_its_core_lazily() -> None:
    code = (
        "import sys, codex_orchestrator.cli.plan\n"
        "heavy = ('codex_orchestrator.config', 'codex_orchestrator.planning',"
        " 'codex_orchestrator.diagnostics', 'codex_orchestrator.ui.plan_view')\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[]"


_commands = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30
).filter(lambda text: text.strip() != "")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=st.lists(_commands, min_size=1, max_size=6))
def test_plan_json_round_trips_any_command_text(
    tmp_path: Path, run_cli: Run, commands: list[str]
) -> None:
    stages = [
        {"kind": "command", "id": f"s{number}", "title": f"S{number}", "command": command}
        for number, command in enumerate(commands)
    ]
    write_config(tmp_path, {"pipelines": [{"id": "p", "title": "P", "stages": stages}]})
    data = plan_json(run_cli, "p")
    assert [stage["command"] for stage in data["stages"]] == commands
    assert [stage["index"] for stage in data["stages"]] == list(range(1, len(commands) + 1))
