"""One real Dask cluster of worker processes for the executor tests, in the test process.

Package-scoped: starting worker processes costs seconds on a busy machine, so every
test module of this package shares the one cluster (the tests run one at a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

# What each worker offers; tests asking for more of it, or for other resources, say so.
WORKER_CPU = 2


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two worker processes with two threads each (each offering cpu=2); their scratch
    space, and the scheduler's (from the config), under the test's temp dir, not the
    system's."""
    import dask

    scratch = str(tmp_path_factory.mktemp("dask-scratch"))
    with (
        dask.config.set({"temporary-directory": scratch}),
        distributed.LocalCluster(
            local_directory=scratch,
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            dashboard_address="127.0.0.1:0",
            resources={"cpu": WORKER_CPU},
            silence_logs=40,
        ) as local,
    ):
        yield local


@pytest.fixture(scope="package")
def client(cluster: Any) -> Iterator[Any]:
    """A client of the test's cluster, to look at its workers."""
    with distributed.Client(cluster, set_as_default=False) as dask_client:
        yield dask_client
