"""The embedded ``diagnostics`` pipeline: build, lint, test and spec-guard, detected per repo.

Detection is cheap on purpose: it looks at the repository's top level and one level
down, never walks the tree, and never starts a process. A check that is not there
becomes a stage with ``skip_reason`` saying what is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.model import CommandStage, Pipeline

DIAGNOSTICS_ID = "diagnostics"
PYTHON_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
SPEC_GUARD_DIR = "scripts"
# Directories that never hold the project's own sources.
EXCLUDED_DIRS = frozenset(
    {"node_modules", "venv", "env", "__pycache__", "build", "dist", "site-packages"}
)
# `npm init` writes this placeholder; running it only fails.
NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1'
# Where pytest configuration may live, and the section header that marks it.
PYTEST_CONFIG_MARKERS = (
    ("pyproject.toml", "[tool.pytest"),
    ("setup.cfg", "[tool:pytest]"),
    ("tox.ini", "[pytest]"),
)
MAX_CONFIG_READ = 1 << 20


@dataclass(frozen=True, slots=True)
class _Repo:
    """What detection found at the repository root (and one level down)."""

    root: Path
    python_project: str | None
    source_dirs: tuple[str, ...]
    top_modules: tuple[str, ...]
    has_python_files: bool
    npm_scripts: Mapping[str, str]


def diagnostics_pipeline(root: Path) -> Pipeline:
    """The built-in pipeline for the repository at ``root``."""
    repo = _inspect(root)
    return Pipeline(
        id=DIAGNOSTICS_ID,
        title="Diagnostics",
        description="Built-in checks detected for this repository: build, lint, test, spec-guard.",
        stages=(_build(repo), _lint(repo), _test(repo), _spec_guard(repo)),
    )


def _python() -> str:
    return shlex.quote(sys.executable)


def _importable(module: str) -> bool:
    """Whether the running interpreter can import ``module`` (found, never imported)."""
    return importlib.util.find_spec(module) is not None


def _stage(stage_id: str, title: str, command: str) -> CommandStage:
    return CommandStage(id=stage_id, title=title, command=command)


def _skipped(stage_id: str, title: str, reason: str) -> CommandStage:
    return CommandStage(id=stage_id, title=title, command="", skip_reason=f"skipped: {reason}")


def _npm_stage(repo: _Repo, stage_id: str, title: str) -> CommandStage | None:
    """``npm run <script>`` when package.json defines it; None when it does not."""
    script = repo.npm_scripts.get(stage_id, "").strip()
    if not script or (stage_id == "test" and script == NPM_PLACEHOLDER_TEST):
        return None
    if shutil.which("npm") is None:
        reason = f'package.json has a "{stage_id}" script but npm is not on PATH'
        return _skipped(stage_id, title, reason)
    return _stage(stage_id, title, f"npm run {stage_id}")


def _build(repo: _Repo) -> CommandStage:
    title = "Build"
    if repo.python_project is not None:
        targets = (*repo.source_dirs, *repo.top_modules)
        if not targets:
            reason = (
                f"{repo.python_project} found but no Python package, src/ or module "
                "at the top level"
            )
            return _skipped("build", title, reason)
        quoted = " ".join(shlex.quote(target) for target in targets)
        return _stage("build", title, f"{_python()} -m compileall -q {quoted}")
    npm = _npm_stage(repo, "build", title)
    if npm is not None:
        return npm
    reason = "no pyproject.toml, setup.py, setup.cfg or package.json build script found"
    return _skipped("build", title, reason)


def _lint(repo: _Repo) -> CommandStage:
    title = "Lint"
    if repo.has_python_files:
        if shutil.which("ruff") is not None:
            return _stage("lint", title, "ruff check .")
        if _importable("ruff"):
            return _stage("lint", title, f"{_python()} -m ruff check .")
        npm = _npm_stage(repo, "lint", title)
        if npm is not None:
            return npm
        reason = f"ruff is neither on PATH nor importable by {sys.executable}"
        return _skipped("lint", title, reason)
    npm = _npm_stage(repo, "lint", title)
    if npm is not None:
        return npm
    return _skipped("lint", title, "no Python files or package.json lint script found")


def _test(repo: _Repo) -> CommandStage:
    title = "Test"
    evidence = _pytest_evidence(repo)
    if evidence is not None:
        if _importable("pytest"):
            return _stage("test", title, f"{_python()} -m pytest -q")
        npm = _npm_stage(repo, "test", title)
        if npm is not None:
            return npm
        reason = f"{evidence} found but pytest is not importable by {sys.executable}"
        return _skipped("test", title, reason)
    npm = _npm_stage(repo, "test", title)
    if npm is not None:
        return npm
    reason = (
        "no tests found (no tests/ directory, test_*.py file, pytest configuration "
        "or package.json test script)"
    )
    return _skipped("test", title, reason)


def _spec_guard(repo: _Repo) -> CommandStage:
    title = "Spec guard"
    runners = (("sh", "bash"), ("py", None), ("mjs", "node"), ("js", "node"))
    for suffix, program in runners:
        relative = f"{SPEC_GUARD_DIR}/spec-guard.{suffix}"
        if not (repo.root / relative).is_file():
            continue
        if program is None:
            return _stage("spec-guard", title, f"{_python()} {shlex.quote(relative)}")
        if shutil.which(program) is None:
            return _skipped("spec-guard", title, f"{relative} found but {program} is not on PATH")
        return _stage("spec-guard", title, f"{program} {shlex.quote(relative)}")
    return _skipped("spec-guard", title, f"no {SPEC_GUARD_DIR}/spec-guard.* found")


def _pytest_evidence(repo: _Repo) -> str | None:
    """What shows the repo has Python tests, as a phrase for messages; None when nothing does."""
    # A JavaScript project's test/ directory is no reason to run pytest.
    if repo.python_project is None and not repo.has_python_files:
        return None
    for name in ("tests", "test"):
        if (repo.root / name).is_dir():
            return f"{name}/"
    if (repo.root / "pytest.ini").is_file():
        return "pytest.ini"
    for name, marker in PYTEST_CONFIG_MARKERS:
        if marker in _read_text(repo.root / name):
            return f"pytest configuration in {name}"
    for path in _python_files(repo.root):
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            return str(path.relative_to(repo.root))
    return None


def _inspect(root: Path) -> _Repo:
    project = next((name for name in PYTHON_PROJECT_FILES if (root / name).is_file()), None)
    top_dirs = list(_source_dirs(root))
    packages = tuple(
        entry.name for entry in top_dirs if entry.name == "src" or (entry / "__init__.py").is_file()
    )
    modules = tuple(sorted(entry.name for entry in _entries(root) if _is_module(entry)))
    return _Repo(
        root=root,
        python_project=project,
        source_dirs=tuple(sorted(packages)),
        top_modules=modules,
        has_python_files=next(_python_files(root), None) is not None,
        npm_scripts=_npm_scripts(root),
    )


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as scan:
            return list(scan)
    except OSError:
        return []


def _is_module(entry: os.DirEntry[str]) -> bool:
    return entry.name.endswith(".py") and entry.is_file(follow_symlinks=False)


def _source_dirs(root: Path) -> Iterator[Path]:
    """Top-level directories that may hold sources: not hidden, not venvs, not excluded."""
    for entry in _entries(root):
        if entry.name.startswith(".") or entry.name in EXCLUDED_DIRS:
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if (path / "pyvenv.cfg").exists():
            continue
        yield path


def _python_files(root: Path) -> Iterator[Path]:
    """Python files at the top level and one level down, lazily (callers stop early)."""
    yield from (Path(entry.path) for entry in _entries(root) if _is_module(entry))
    for directory in _source_dirs(root):
        yield from (Path(entry.path) for entry in _entries(directory) if _is_module(entry))


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_CONFIG_READ).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _npm_scripts(root: Path) -> dict[str, str]:
    text = _read_text(root / "package.json")
    if not text:
        return {}
    try:
        document: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    scripts = document.get("scripts") if isinstance(document, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {name: value for name, value in scripts.items() if isinstance(value, str)}
