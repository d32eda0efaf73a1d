"""``start`` (and the application around it) as a user meets it: help, output, exit codes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from helpers import (
    command,
    json_document,
    one_error_line,
    only_run,
    pipeline,
    run_cli_subprocess,
    run_ids,
    subpipeline,
    tree,
    write_config,
)
from typer.testing import Result

from codex_orchestrator import __version__

Run = Callable[..., Result]

DOCUMENT_KEYS = {
    "run_id",
    "task_id",
    "pipeline_id",
    "status",
    "status_detail",
    "artifact_root",
    "manifest",
    "log_path",
    "summary",
}
COMMANDS = [
    ("start",),
    ("plan",),
    ("exec",),
    ("status",),
    ("runs",),
    ("resume",),
    ("metrics",),
    ("metrics", "summary"),
    ("migrate",),
]


# ---------------------------------------------------------------------------
# In-process: parsing, help, version
# ---------------------------------------------------------------------------


def test_version(run_cli: Run) -> None:
    """``--version`` prints the name and version, exit 0."""
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"codex-orchestrator {__version__}\n"


def test_top_level_help_lists_every_command(run_cli: Run) -> None:
    """``--help`` names each command and documents the exit codes."""
    result = run_cli("--help")
    assert result.exit_code == 0
    for name, *_ in COMMANDS:
        assert re.search(rf"^\s+{name}\s", result.stdout, re.MULTILINE), name
    assert "130 cancelled" in " ".join(result.stdout.split())


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help(run_cli: Run, words: tuple[str, ...], flag: str) -> None:
    """``COMMAND --help`` exits 0 and shows its usage line."""
    result = run_cli(*words, flag)
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith(f"Usage: codex-orchestrator {' '.join(words)}")


def test_start_help_documents_options_and_exit_codes(run_cli: Run) -> None:
    """The options a user needs are in ``start --help``."""
    text = " ".join(run_cli("start", "--help").stdout.split())
    for option in ("--task", "--format", "--config", "--interactive", "--stage-timeout"):
        assert option in text
    assert "Exit 0 succeeded, 1 failed, 2 usage/input error, 130 cancelled." in text


@pytest.mark.parametrize(
    "args",
    [
        ("start", "--format", "xml"),
        ("start", "--no-such-option"),
        ("start", "--stage-timeout", "0"),
        ("start", "a", "b"),
    ],
)
def test_bad_usage_exits_2_without_writing(run_cli: Run, tmp_path: Path, args: tuple[str]) -> None:
    """Option errors exit 2 before anything is created."""
    result = run_cli(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr
    assert not (tmp_path / ".runs").exists()


def test_config_error_in_process(run_cli: Run, tmp_path: Path) -> None:
    """The one-line error format, checked without a subprocess."""
    (tmp_path / "codex.orchestrator.json").write_text("{")
    result = run_cli("start")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("codex-orchestrator: error: codex.orchestrator.json: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / ".runs").exists()


# ---------------------------------------------------------------------------
# Real runs
# ---------------------------------------------------------------------------


def _two_stage_config(project: Path, second: str = "echo checked") -> None:
    write_config(
        project,
        pipeline(
            "ci",
            command("build", "echo built"),
            command("check", second),
        ),
    )


@pytest.mark.integration
def test_json_format_prints_one_document_and_progress_on_stderr(tmp_path: Path) -> None:
    """stdout is exactly one JSON document; stage progress goes to stderr."""
    _two_stage_config(tmp_path)
    result = run_cli_subprocess(tmp_path, "start", "--format", "json")
    assert result.returncode == 0, result.stderr
    # The whole of stdout is one document: json.loads refuses anything before or after it.
    document = json.loads(result.stdout)
    assert set(document) == DOCUMENT_KEYS
    assert document["status"] == "succeeded"
    assert document["pipeline_id"] == "ci"
    assert "[1/2] build: echo built" in result.stderr.splitlines()
    assert "[2/2] check: echo checked" in result.stderr.splitlines()
    assert "built" not in result.stdout.replace(document["summary"] or "", "")
    run = only_run(tmp_path)
    assert document["run_id"] == run.run_id
    assert (tmp_path / document["manifest"]).is_file()
    assert (tmp_path / document["log_path"]).is_file()
    assert (tmp_path / document["artifact_root"]).is_dir()


@pytest.mark.integration
def test_text_format_shows_each_stage_start_and_end(tmp_path: Path) -> None:
    """Text mode: a line as each stage starts and as it ends, then a closing block."""
    _two_stage_config(tmp_path, second="echo nope >&2; exit 4")
    result = run_cli_subprocess(tmp_path, "start")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    run = only_run(tmp_path)
    assert lines[0].startswith(f"run {run.run_id}: pipeline ci, 2 stage(s) -> ")
    assert lines[1] == "[1/2] build: echo built"
    assert re.fullmatch(r"\[1/2\] ok   build( in \d+\.\d\ds)? - built", lines[2]), lines[2]
    assert lines[3] == "[2/2] check: echo nope >&2; exit 4"
    assert re.fullmatch(
        r"\[2/2\] FAIL check( in \d+\.\d\ds)? - Exited with code 4 — nope", lines[4]
    ), lines[4]
    assert lines[5] == f"run {run.run_id}: failed"
    assert lines[6] == "status:   failed (stage:check:failed)"
    assert lines[7] == f"run:      {run.run_id} (task 0101)"
    assert lines[8] == f"manifest: .runs/0101/cli/{run.run_id}/manifest.json"
    assert "  Stage 'check' failed with exit code 4." in lines


@pytest.mark.integration
@pytest.mark.parametrize(("second", "code"), [("true", 0), ("exit 1", 1), ("exit 77", 1)])
def test_start_exit_code_follows_the_run(tmp_path: Path, second: str, code: int) -> None:
    """0 when the run succeeded, 1 when it failed (whatever the command's own code)."""
    _two_stage_config(tmp_path, second=second)
    result = run_cli_subprocess(tmp_path, "start", "--format", "json")
    assert result.returncode == code
    assert json_document(result)["status"] == ("succeeded" if code == 0 else "failed")


@pytest.mark.integration
def test_default_pipeline_and_named_pipeline(tmp_path: Path) -> None:
    """Without a name the config's default runs; a name picks another pipeline."""
    write_config(
        tmp_path,
        pipeline("first", command("a", "true")),
        pipeline("second", command("b", "true")),
        default="second",
    )
    assert (
        json_document(run_cli_subprocess(tmp_path, "start", "--format", "json"))["pipeline_id"]
        == "second"
    )
    named = json_document(run_cli_subprocess(tmp_path, "start", "first", "--format", "json"))
    assert named["pipeline_id"] == "first"


@pytest.mark.integration
def test_config_option_and_env_variable_choose_the_file(tmp_path: Path) -> None:
    """``--config`` and CODEX_ORCHESTRATOR_REPO_CONFIG_PATH point at another config."""
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    write_config(elsewhere, pipeline("other", command("x", "true")))
    by_option = run_cli_subprocess(
        tmp_path, "start", "--config", "conf/codex.orchestrator.json", "--format", "json"
    )
    assert json_document(by_option)["pipeline_id"] == "other"
    by_env = run_cli_subprocess(
        tmp_path,
        "start",
        "--format",
        "json",
        env={"CODEX_ORCHESTRATOR_REPO_CONFIG_PATH": str(elsewhere / "codex.orchestrator.json")},
    )
    assert json_document(by_env)["pipeline_id"] == "other"


# ---------------------------------------------------------------------------
# Errors before a run: exit 2, one line, nothing written
# ---------------------------------------------------------------------------

CONFIG_ERRORS: dict[str, tuple[str | None, tuple[str, ...], str]] = {
    # name: (config file content or None, extra args, expected text in the error)
    "invalid-json": ('{"pipelines": [', (), "codex.orchestrator.json: invalid JSON at line 1"),
    "missing-title": (
        '{"pipelines": [{"id": "x", "stages": []}]}',
        (),
        "pipelines[0].title",
    ),
    "bad-command-type": (
        orjson.dumps(
            {
                "pipelines": [
                    pipeline("x", {"kind": "command", "id": "a", "title": "A", "command": 3})
                ]
            }
        ).decode(),
        (),
        "pipelines[0].stages[0].command",
    ),
    "unknown-pipeline": (None, ("nope",), 'unknown pipeline "nope"'),
    "unknown-stage-set": (
        orjson.dumps(
            {"pipelines": [pipeline("x", {"kind": "stage-set", "ref": "missing"})]}
        ).decode(),
        (),
        "missing",
    ),
    "unknown-subpipeline": (
        orjson.dumps({"pipelines": [pipeline("x", subpipeline("s", "ghost"))]}).decode(),
        (),
        "ghost",
    ),
    "missing-config-file": (None, ("--config", "nowhere.json"), "nowhere.json"),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", list(CONFIG_ERRORS))
def test_config_errors_exit_2_and_write_nothing(tmp_path: Path, name: str) -> None:
    """A config problem: one ``codex-orchestrator: error:`` line, exit 2, no ``.runs``."""
    content, args, expected = CONFIG_ERRORS[name]
    if content is not None:
        (tmp_path / "codex.orchestrator.json").write_text(content)
    result = run_cli_subprocess(tmp_path, "start", *args, "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert expected in one_error_line(result)
    assert not (tmp_path / ".runs").exists()


BAD_TASKS = ["", ".", "..", "a/b", "a\\b", "../escape", "tab\there", "new\nline", ".hidden"]


@pytest.mark.integration
@pytest.mark.parametrize("task", BAD_TASKS)
def test_bad_task_option_exits_2_and_writes_nothing(tmp_path: Path, task: str) -> None:
    """Unsafe ``--task`` values are refused before anything is created."""
    _two_stage_config(tmp_path)
    result = run_cli_subprocess(tmp_path, "start", "--task", task)
    assert result.returncode == 2
    assert "invalid task id" in one_error_line(result)
    assert not (tmp_path / ".runs").exists()


@pytest.mark.integration
@pytest.mark.parametrize("variable", ["MCP_RUNNER_TASK_ID", "CODEX_ORCHESTRATOR_TASK_ID"])
def test_bad_task_variable_exits_2(tmp_path: Path, variable: str) -> None:
    """The same rules hold for a task id from the environment."""
    _two_stage_config(tmp_path)
    result = run_cli_subprocess(tmp_path, "start", env={variable: "../up"})
    assert result.returncode == 2
    assert "invalid task id '../up'" in one_error_line(result)
    assert not (tmp_path / ".runs").exists()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "env", "task"),
    [
        ((), {}, "0101"),
        ((), {"CODEX_ORCHESTRATOR_TASK_ID": "from-codex"}, "from-codex"),
        ((), {"MCP_RUNNER_TASK_ID": "from-mcp", "CODEX_ORCHESTRATOR_TASK_ID": "c"}, "from-mcp"),
        (("--task", "explicit"), {"MCP_RUNNER_TASK_ID": "from-mcp"}, "explicit"),
    ],
)
def test_task_id_precedence(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], task: str
) -> None:
    """``--task``, then MCP_RUNNER_TASK_ID, then CODEX_ORCHESTRATOR_TASK_ID, then 0101."""
    _two_stage_config(tmp_path)
    result = run_cli_subprocess(tmp_path, "start", *args, "--format", "json", env=env)
    assert json_document(result)["task_id"] == task
    assert len(run_ids(tmp_path, task)) == 1
    # Hidden entries are the shared artifact store (objects, search index), not tasks.
    assert [n for n in os.listdir(tmp_path / ".runs") if not n.startswith(".")] == [task]


@pytest.mark.integration
@pytest.mark.parametrize("blocked", ["cli", "mcp"])
def test_run_directory_failure_exits_2_and_leaves_nothing_half_written(
    tmp_path: Path, blocked: str
) -> None:
    """A file where ``cli/`` or ``mcp/`` must be: exit 2, one line, no run directory."""
    _two_stage_config(tmp_path)
    task_dir = tmp_path / ".runs" / "0101"
    task_dir.mkdir(parents=True)
    (task_dir / blocked).write_text("in the way")
    before = tree(tmp_path / ".runs")
    result = run_cli_subprocess(tmp_path, "start", "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "cannot create run directory" in one_error_line(result)
    assert tree(tmp_path / ".runs") - before <= {"0101/cli"}
    cli_dir = task_dir / "cli"
    assert cli_dir.is_file() or list(cli_dir.iterdir()) == []
    assert (task_dir / blocked).read_text() == "in the way"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("start", "--format", "xml"), "Invalid value for '--format': 'xml' is not one of"),
        (("bogus",), "No such command 'bogus'."),
        (("resume",), "Missing option '--run'."),
        (("status", "--interval", "0"), "Invalid value for '--interval'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    """From the real program, a parsing error is one line naming the fault, exit 2."""
    result = run_cli_subprocess(tmp_path, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"codex-orchestrator: error: {expected}")
    assert result.stderr.rstrip().endswith("--help')")


@pytest.mark.integration
def test_no_command_shows_the_help_and_exits_2(tmp_path: Path) -> None:
    """Called bare, the program prints its help (on stderr) and exits 2."""
    result = run_cli_subprocess(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: codex-orchestrator [OPTIONS] COMMAND")
    assert "start" in result.stderr
