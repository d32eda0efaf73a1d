"""Where command stages run: the executor a config or the command line chooses."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class ExecutorKind(enum.StrEnum):
    """The executors there are (LAYERS.md section 7)."""

    LOCAL = "local"
    DASK = "dask"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorConfig:
    """Config ``executor``: its kind, a Dask scheduler, the shape of a local cluster.

    ``scheduler`` is ``tcp://HOST:PORT`` (None: a local cluster is started for the
    run); ``workers`` and ``resources`` (what each worker of that local cluster
    offers, e.g. ``{"cpu": 2}``) apply only to the local cluster.
    """

    kind: ExecutorKind = ExecutorKind.LOCAL
    scheduler: str | None = None
    workers: int | None = None
    resources: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
