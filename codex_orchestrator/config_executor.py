"""Reading the ``executor`` key of a config and the ``resources`` of command stages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.model import ExecutorConfig, ExecutorKind

_EXECUTOR_KEYS = frozenset({"kind", "scheduler", "workers", "resources"})
# What Dask's tcp comm accepts: tcp://host:port, the host a name, IPv4 or [IPv6].
_SCHEDULER = re.compile(r"^tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def scheduler_problem(address: str) -> str | None:
    """Why ``address`` is not a ``tcp://HOST:PORT`` scheduler address (None: it is)."""
    match = _SCHEDULER.match(address)
    if match is None:
        return f"expected tcp://HOST:PORT, got {address!r}"
    if not 0 < int(match.group(2)) < 65536:
        return f"port out of range in {address!r}"
    return None


def check_scheduler(address: str) -> str:
    """``--scheduler``: the address, or a usage error (exit 2)."""
    problem = scheduler_problem(address)
    if problem is not None:
        raise InvalidInput(f"--scheduler: {problem}")
    return address


def read_executor(reader: FieldReader, document: Mapping[str, Any]) -> ExecutorConfig:
    """The config's ``executor`` object (the local executor when absent)."""
    obj = reader.typed(document, "", "executor", dict, required=False)
    if obj is None:
        return ExecutorConfig()
    where = "executor"
    reader.warn_unknown(obj, where, _EXECUTOR_KEYS)
    kind_text = reader.text(obj, where, "kind", required=False) or str(ExecutorKind.LOCAL)
    try:
        kind = ExecutorKind(kind_text)
    except ValueError:
        known = " or ".join(str(k) for k in ExecutorKind)
        message = f'unknown executor "{kind_text}" ({known})'
        raise reader.error(key_path(where, "kind"), message) from None
    scheduler = reader.text(obj, where, "scheduler", required=False)
    if scheduler is not None:
        problem = scheduler_problem(scheduler)
        if problem is not None:
            raise reader.error(key_path(where, "scheduler"), problem)
    workers = obj.get("workers")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise reader.error(key_path(where, "workers"), "must be a positive integer")
    return ExecutorConfig(
        kind=kind,
        scheduler=scheduler,
        workers=workers,
        resources=read_resources(reader, obj, where),
    )


def read_resources(reader: FieldReader, obj: Mapping[str, Any], where: str) -> Mapping[str, float]:
    """A ``resources`` object: names to positive numbers, e.g. ``{"cpu": 2}``."""
    raw = obj.get("resources")
    if raw is None:
        return MappingProxyType({})
    res_where = key_path(where, "resources")
    if not isinstance(raw, dict):
        raise reader.error(res_where, f"must be an object of numbers, got {json_type(raw)}")
    resources: dict[str, float] = {}
    for name, value in raw.items():
        if not _RESOURCE_NAME.match(name):
            raise reader.error(key_path(res_where, name), "not a valid resource name")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            got = json_type(value) if not isinstance(value, int | float) else str(value)
            raise reader.error(key_path(res_where, name), f"must be a positive number, got {got}")
        resources[name] = float(value)
    return MappingProxyType(resources)
