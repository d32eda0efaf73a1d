"""Choosing the executor: options, config, their errors, and what the CLI imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from helpers import command, one_error_line, pipeline, run_cli_subprocess, write_config

from codex_orchestrator.config import load_config
from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model import CommandStage, ExecutorKind


def _config_with(tmp_path: Path, executor: object, **stage: object) -> Path:
    path = write_config(tmp_path, pipeline("p", command("x", "true", **stage)))
    document = orjson.loads(path.read_bytes())
    document["executor"] = executor
    path.write_bytes(orjson.dumps(document))
    return path


def test_the_config_names_the_executor_and_stage_resources(tmp_path: Path) -> None:
    """``executor`` and a stage's ``resources`` are read as written."""
    path = _config_with(
        tmp_path,
        {
            "kind": "dask",
            "scheduler": "tcp://sched.example:8786",
            "workers": 3,
            "resources": {"cpu": 4, "gpu": 1},
        },
        resources={"cpu": 2, "mem.gb": 0.5},
    )
    config = load_config(path, tmp_path)
    assert config.executor.kind is ExecutorKind.DASK
    assert config.executor.scheduler == "tcp://sched.example:8786"
    assert config.executor.workers == 3
    assert dict(config.executor.resources) == {"cpu": 4.0, "gpu": 1.0}
    (stage,) = config.pipelines["p"].stages
    assert isinstance(stage, CommandStage)
    assert dict(stage.resources) == {"cpu": 2.0, "mem.gb": 0.5}


@pytest.mark.parametrize(
    ("executor", "stage", "message"),
    [
        ({"kind": "k8s"}, {}, 'executor.kind: unknown executor "k8s" (local or dask)'),
        (
            {"kind": "dask", "scheduler": "sched:8786"},
            {},
            "executor.scheduler: expected tcp://HOST:PORT, got 'sched:8786'",
        ),
        ({"scheduler": "tcp://h:99999"}, {}, "executor.scheduler: port out of range in"),
        ({"workers": 0}, {}, "executor.workers: must be a positive integer"),
        ({"resources": {"cpu": -1}}, {}, "executor.resources.cpu: must be a positive number"),
        (
            {},
            {"resources": {"cpu": "two"}},
            "pipelines[0].stages[0].resources.cpu: must be a positive number, got string",
        ),
        ({}, {"resources": [1]}, "pipelines[0].stages[0].resources: must be an object"),
        ("dask", {}, "executor: must be an object, got string"),
    ],
)
def test_a_bad_executor_config_names_the_key(
    tmp_path: Path, executor: object, stage: dict[str, object], message: str
) -> None:
    """One line naming the file and the key path (exit 2 from the CLI)."""
    path = _config_with(tmp_path, executor, **stage)
    with pytest.raises(ConfigError) as caught:
        load_config(path, tmp_path)
    assert message in str(caught.value)
    assert str(caught.value).startswith("codex.orchestrator.json: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--scheduler", "sched.example:8786"),
            "--scheduler: expected tcp://HOST:PORT, got 'sched.example:8786'",
        ),
        (
            ("--executor", "local", "--scheduler", "tcp://127.0.0.1:8786"),
            "--scheduler applies only to --executor dask",
        ),
    ],
)
def test_bad_executor_options_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """Exit 2 with one line, before anything is written."""
    write_config(tmp_path, pipeline("p", command("x", "true")))
    result = run_cli_subprocess(tmp_path, "start", *args)
    assert result.returncode == 2, result.stderr
    assert one_error_line(result) == message
    assert not (tmp_path / ".runs").exists()


def test_the_local_executor_never_imports_dask(tmp_path: Path) -> None:
    """A whole local run (and the CLI's start-up) leaves dask and distributed unimported."""
    write_config(tmp_path, pipeline("p", command("x", "echo hi")))
    probe = (
        "import sys\n"
        "from codex_orchestrator.cli.app import main\n"
        "sys.argv = ['codex-orchestrator', 'start', 'p', '--format', 'json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('EXIT', code, 'HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.stderr.splitlines()[-1] == "EXIT 0 HEAVY []", result.stderr
    assert orjson.loads(result.stdout)["status"] == "succeeded"


def test_without_the_dask_extra_the_dask_executor_is_a_usage_error(tmp_path: Path) -> None:
    """``--executor dask`` where distributed cannot be imported: exit 2, naming the extra."""
    write_config(tmp_path, pipeline("p", command("x", "true")))
    probe = (
        "import sys\n"
        "sys.modules['distributed'] = None  # as if the [dask] extra were not installed\n"
        "from codex_orchestrator.cli.app import main\n"
        "sys.argv = ['codex-orchestrator', 'start', 'p', '--executor', 'dask']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert one_error_line(result).startswith(
        "--executor dask needs the dask extra (pip install 'codex-orchestrator[dask]')"
    )
    assert not (tmp_path / ".runs").exists()
