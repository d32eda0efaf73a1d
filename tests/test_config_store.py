"""Config keys of the git artifact store and of log masking: values, defaults, key-path errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from codex_orchestrator.config import load_config
from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model import DEFAULT_MASK_ENV, PipelineStore, StoreSettings, StoreWhen

STAGE = {"kind": "command", "id": "s", "title": "s", "command": "true"}


def load(tmp_path: Path, document: dict[str, Any]) -> Any:
    path = tmp_path / "codex.orchestrator.json"
    path.write_bytes(orjson.dumps(document))
    return load_config(path, tmp_path)


def pipeline(**extra: Any) -> dict[str, Any]:
    return {"id": "p", "title": "p", "stages": [STAGE], **extra}


def test_defaults_without_the_keys(tmp_path: Path) -> None:
    config = load(tmp_path, {"pipelines": [pipeline()]})
    assert config.store == StoreSettings()
    assert config.secrets.mask_env == DEFAULT_MASK_ENV
    assert config.pipelines["p"].store is None


def test_every_store_key_is_read(tmp_path: Path) -> None:
    store = {
        "path": "gen/{workflow_id}/{task_id}",
        "branchPrefix": "bots/gen",
        "author": "Bot <bot@example.com>",
        "sign": True,
        "autoPush": False,
        "remote": "upstream",
        "pushTimeoutSeconds": 2.5,
        "scanSecrets": False,
        "secretPatterns": ["ACME-[0-9]+"],
        "requireCorrelationId": True,
    }
    document = {
        "pipelines": [
            pipeline(store={"on": "always", "workflow": "wf", "correlationId": "x-{run_id}"})
        ],
        "store": store,
        "secrets": {"maskEnv": ["*CRED*"]},
    }
    config = load(tmp_path, document)
    assert config.store == StoreSettings(
        path="gen/{workflow_id}/{task_id}",
        branch_prefix="bots/gen",
        author="Bot <bot@example.com>",
        sign=True,
        auto_push=False,
        remote="upstream",
        push_timeout_seconds=2.5,
        scan_secrets=False,
        secret_patterns=("ACME-[0-9]+",),
        require_correlation_id=True,
    )
    assert config.secrets.mask_env == ("*CRED*",)
    assert config.pipelines["p"].store == PipelineStore(
        when=StoreWhen.ALWAYS, workflow="wf", correlation_id="x-{run_id}"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"store": {"path": "../x"}}, "store.path: must be a relative path without '..'"),
        ({"store": {"path": "a/{nope}"}}, "store.path: unknown placeholder {nope}"),
        ({"store": {"branchPrefix": "a b"}}, "store.branchPrefix: not a valid branch prefix"),
        ({"store": {"sign": "yes"}}, "store.sign: must be true or false, got string"),
        ({"store": {"pushTimeoutSeconds": 0}}, "store.pushTimeoutSeconds: must be a positive"),
        ({"store": {"secretPatterns": ["("]}}, "store.secretPatterns[0]: not a valid regular"),
        ({"store": {"secretPatterns": [1]}}, "store.secretPatterns[0]: must be a string"),
        ({"store": []}, "store: must be an object, got array"),
        ({"secrets": {"maskEnv": "TOKEN"}}, "secrets.maskEnv: must be an array, got string"),
        (
            {"pipelines": [pipeline(store={"on": "sometimes"})]},
            'pipelines[0].store.on: must be "success" or "always"',
        ),
        (
            {"pipelines": [pipeline(store={"workflow": "a/b"})]},
            "pipelines[0].store.workflow: use letters",
        ),
        (
            {"pipelines": [pipeline(store={"correlationId": "{oops}"})]},
            "pipelines[0].store.correlationId: use letters",
        ),
    ],
)
def test_bad_values_name_the_key_path(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"pipelines": [pipeline()], **document})
    assert str(caught.value).startswith(f"codex.orchestrator.json: {message}")


def test_unknown_keys_warn(tmp_path: Path) -> None:
    config = load(tmp_path, {"pipelines": [pipeline()], "store": {"colour": "red"}})
    assert config.warnings == ("codex.orchestrator.json: store.colour: unknown key (ignored)",)
