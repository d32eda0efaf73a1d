"""The embedded diagnostics pipeline: what it detects, what it runs, why it skips."""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_orchestrator import diagnostics
from codex_orchestrator.diagnostics import diagnostics_pipeline
from codex_orchestrator.model import CommandStage

PY = shlex.quote(sys.executable)
REPO = Path(__file__).resolve().parent.parent
Programs = Callable[..., None]


def touch(root: Path, *names: str, text: str = "") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def path_with(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Programs:
    """Set PATH to a directory holding fake executables with exactly these names."""

    def install(*programs: str) -> None:
        bin_dir = tmp_path_factory.mktemp("bin")
        for program in programs:
            fake = bin_dir / program
            fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
            fake.chmod(0o755)
        monkeypatch.setenv("PATH", str(bin_dir))

    install()
    return install


@pytest.fixture
def importable(monkeypatch: pytest.MonkeyPatch) -> Programs:
    """Decide which modules the running interpreter "can import" (ruff, pytest)."""

    def allow(*modules: str) -> None:
        monkeypatch.setattr(diagnostics, "_importable", lambda module: module in modules)

    allow("pytest")
    return allow


def stages(root: Path) -> dict[str, CommandStage]:
    pipeline = diagnostics_pipeline(root)
    assert [stage.id for stage in pipeline.stages] == ["build", "lint", "test", "spec-guard"]
    found = {stage.id: stage for stage in pipeline.stages if isinstance(stage, CommandStage)}
    assert len(found) == 4
    return found


def runs(stage: CommandStage) -> str:
    assert stage.skip_reason is None, stage.skip_reason
    return stage.command


def skipped(stage: CommandStage) -> str:
    assert stage.command == ""
    assert stage.skip_reason is not None
    return stage.skip_reason


def test_empty_directory_skips_everything_and_says_why(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    importable("pytest", "ruff")
    pipeline = diagnostics_pipeline(tmp_path)
    assert (pipeline.id, pipeline.title, pipeline.guardrails_required) == (
        "diagnostics",
        "Diagnostics",
        None,
    )
    assert pipeline.requires_guardrails is True
    found = stages(tmp_path)
    assert skipped(found["build"]) == (
        "skipped: no pyproject.toml, setup.py, setup.cfg or package.json build script found"
    )
    assert skipped(found["lint"]) == "skipped: no Python files or package.json lint script found"
    assert skipped(found["test"]) == (
        "skipped: no tests found (no tests/ directory, test_*.py file, pytest configuration "
        "or package.json test script)"
    )
    assert skipped(found["spec-guard"]) == "skipped: no scripts/spec-guard.* found"
    assert [s.title for s in pipeline.stages] == ["Build", "Lint", "Test", "Spec guard"]


def test_python_project_with_tests_and_spec_guard(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    path_with("bash", "ruff")
    touch(
        tmp_path,
        "pyproject.toml",
        "mypkg/__init__.py",
        "mypkg/core.py",
        "src/other/__init__.py",
        "tool.py",
        "tests/test_core.py",
        "scripts/spec-guard.sh",
        "docs/conf.py",  # not a package: not byte-compiled
        ".venv/lib/__init__.py",  # hidden
        "venv/__init__.py",  # a venv by name
        "pyenv/__init__.py",  # a venv by its marker
        "pyenv/pyvenv.cfg",
        "node_modules/dep/__init__.py",
        "node_modules/__init__.py",
        ".runs/__init__.py",
    )
    found = stages(tmp_path)
    assert runs(found["build"]) == f"{PY} -m compileall -q mypkg src tool.py"
    assert runs(found["lint"]) == "ruff check ."
    assert runs(found["test"]) == f"{PY} -m pytest -q"
    assert runs(found["spec-guard"]) == "bash scripts/spec-guard.sh"
    assert diagnostics_pipeline(tmp_path).requires_guardrails is True


def test_ruff_as_a_module_when_not_on_path(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    importable("ruff", "pytest")
    touch(tmp_path, "setup.py")
    assert runs(stages(tmp_path)["lint"]) == f"{PY} -m ruff check ."


def test_no_ruff_anywhere_is_skipped_with_the_interpreter_named(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    touch(tmp_path, "setup.py")
    reason = skipped(stages(tmp_path)["lint"])
    assert reason == f"skipped: ruff is neither on PATH nor importable by {sys.executable}"


def test_pytest_missing_is_skipped_with_the_evidence_named(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    importable()
    touch(tmp_path, "pyproject.toml", "pkg/__init__.py", "tests/test_x.py")
    reason = skipped(stages(tmp_path)["test"])
    assert reason == f"skipped: tests/ found but pytest is not importable by {sys.executable}"


@pytest.mark.parametrize(
    ("files", "text"),
    [
        (["tests/helper.txt"], ""),
        (["test/helper.txt"], ""),
        (["pytest.ini"], "[pytest]\n"),
        (["pyproject.toml"], "[tool.pytest.ini_options]\naddopts = '-q'\n"),
        (["setup.cfg"], "[tool:pytest]\n"),
        (["tox.ini"], "[pytest]\n"),
        (["test_top.py"], ""),
        (["pkg/test_inner.py"], ""),
        (["pkg/inner_test.py"], ""),
    ],
)
def test_test_detection(
    tmp_path: Path, path_with: Programs, importable: Programs, files: list[str], text: str
) -> None:
    touch(tmp_path, "module.py")
    touch(tmp_path, *files, text=text)
    assert runs(stages(tmp_path)["test"]) == f"{PY} -m pytest -q"


def test_detection_looks_one_level_down_only(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    # Deeper files are not looked at: detection must stay cheap in huge repositories.
    touch(tmp_path, "setup.py", "a/b/test_deep.py", "a/b/c.py")
    assert skipped(stages(tmp_path)["test"]).startswith("skipped: no tests found")


def test_tox_ini_without_pytest_section_is_no_evidence(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    touch(tmp_path, "module.py")
    touch(tmp_path, "tox.ini", text="[tox]\nenvlist = py311\n")
    assert skipped(stages(tmp_path)["test"]).startswith("skipped: no tests found")


def test_python_project_without_sources_skips_build(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    touch(tmp_path, "pyproject.toml", "notes/readme.txt")
    assert skipped(stages(tmp_path)["build"]) == (
        "skipped: pyproject.toml found but no Python package, src/ or module at the top level"
    )


def test_odd_names_are_quoted_for_the_shell(
    tmp_path: Path, path_with: Programs, importable: Programs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/opt/my python/bin/python3")
    touch(tmp_path, "setup.cfg", "my pkg/__init__.py", "it's.py", "tests/test_a.py")
    found = stages(tmp_path)
    build = runs(found["build"])
    assert build == "'/opt/my python/bin/python3' -m compileall -q 'my pkg' 'it'\"'\"'s.py'"
    assert shlex.split(build) == [
        "/opt/my python/bin/python3",
        "-m",
        "compileall",
        "-q",
        "my pkg",
        "it's.py",
    ]
    assert runs(found["test"]) == "'/opt/my python/bin/python3' -m pytest -q"


_dir_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12
).filter(
    lambda name: (
        not name.startswith(".")
        and name not in diagnostics.EXCLUDED_DIRS
        and name != "pyproject.toml"
    )
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_dir_names)
def test_any_package_dir_name_round_trips_through_shell_quoting(tmp_path: Path, name: str) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    touch(root, "pyproject.toml", f"{name}/__init__.py")
    build = runs(stages(root)["build"])
    assert shlex.split(build)[4:] == [name]


@pytest.mark.parametrize(
    ("script", "programs", "expected"),
    [
        ("spec-guard.sh", ("bash",), "bash scripts/spec-guard.sh"),
        ("spec-guard.py", (), f"{PY} scripts/spec-guard.py"),
        ("spec-guard.mjs", ("node",), "node scripts/spec-guard.mjs"),
        ("spec-guard.js", ("node",), "node scripts/spec-guard.js"),
    ],
)
@pytest.mark.usefixtures("importable")
def test_spec_guard_runner_follows_the_suffix(
    tmp_path: Path, path_with: Programs, script: str, programs: tuple[str, ...], expected: str
) -> None:
    path_with(*programs)
    touch(tmp_path, f"scripts/{script}")
    assert runs(stages(tmp_path)["spec-guard"]) == expected


def test_spec_guard_shell_script_wins_over_others(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    path_with("bash", "node")
    touch(tmp_path, "scripts/spec-guard.js", "scripts/spec-guard.py", "scripts/spec-guard.sh")
    assert runs(stages(tmp_path)["spec-guard"]) == "bash scripts/spec-guard.sh"


@pytest.mark.parametrize(
    ("script", "program"), [("spec-guard.sh", "bash"), ("spec-guard.mjs", "node")]
)
def test_spec_guard_without_its_interpreter_is_skipped(
    tmp_path: Path, path_with: Programs, importable: Programs, script: str, program: str
) -> None:
    touch(tmp_path, f"scripts/{script}")
    assert skipped(stages(tmp_path)["spec-guard"]) == (
        f"skipped: scripts/{script} found but {program} is not on PATH"
    )


def test_node_project_uses_npm_scripts(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    path_with("npm")
    touch(
        tmp_path,
        "package.json",
        text='{"scripts": {"build": "tsc", "lint": "eslint .", "test": "vitest run"}}',
    )
    touch(tmp_path, "test/app.test.js")  # a JavaScript test/ directory is no reason for pytest
    found = stages(tmp_path)
    assert runs(found["build"]) == "npm run build"
    assert runs(found["lint"]) == "npm run lint"
    assert runs(found["test"]) == "npm run test"


def test_npm_placeholder_test_script_is_not_a_test(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    path_with("npm")
    touch(
        tmp_path,
        "package.json",
        text='{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}',
    )
    assert skipped(stages(tmp_path)["test"]).startswith("skipped: no tests found")


def test_npm_missing_is_named(tmp_path: Path, path_with: Programs, importable: Programs) -> None:
    touch(tmp_path, "package.json", text='{"scripts": {"build": "tsc"}}')
    assert skipped(stages(tmp_path)["build"]) == (
        'skipped: package.json has a "build" script but npm is not on PATH'
    )


@pytest.mark.parametrize("text", ["{not json", "[]", '{"scripts": ["build"]}', ""])
def test_malformed_package_json_counts_as_no_scripts(
    tmp_path: Path, path_with: Programs, importable: Programs, text: str
) -> None:
    path_with("npm")
    touch(tmp_path, "package.json", text=text)
    assert skipped(stages(tmp_path)["build"]).startswith("skipped: no pyproject.toml")


def test_this_repository(path_with: Programs, importable: Programs) -> None:
    importable("pytest", "ruff")
    found = stages(REPO)
    assert runs(found["build"]).startswith(f"{PY} -m compileall -q ")
    assert "codex_orchestrator" in shlex.split(runs(found["build"]))
    assert runs(found["lint"]) == f"{PY} -m ruff check ."
    assert runs(found["test"]) == f"{PY} -m pytest -q"
    guard = found["spec-guard"]
    assert guard.skip_reason is not None or "scripts/spec-guard." in guard.command


def test_detection_writes_nothing(
    tmp_path: Path, path_with: Programs, importable: Programs
) -> None:
    touch(tmp_path, "pyproject.toml", "pkg/__init__.py", "tests/test_a.py", "scripts/spec-guard.py")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    diagnostics_pipeline(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
