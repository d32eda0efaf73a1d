"""Schemathesis against the app's own OpenAPI: no generated input makes it fail."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from codex_orchestrator.server.app import AppSettings, create_app

from .helpers import Project

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_generated_request_breaks_the_api(project: Project, finished_run: str) -> None:
    """Every operation, 40 generated requests each: no 500, only declared responses."""
    app = create_app(AppSettings(root=project.root, mount_mcp=False))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations} >= {"/runs", "/runs/{run_id}", "/runs/{run_id}/events"}
    called: list[str] = []

    @given(data=st.data())
    @settings(
        max_examples=40 * len(operations),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        called.append(operation.path)
        case.call_and_validate(checks=CHECKS)

    fuzz()
    assert set(called) == {op.path for op in operations}
    # Random ids never name a run: check every operation on the real one too.
    for operation in operations:
        parameters = {"run_id": finished_run, "index": 1}
        wanted = {name: parameters[name] for name in parameters if f"{{{name}}}" in operation.path}
        response = operation.Case(path_parameters=wanted).call_and_validate(checks=CHECKS)
        assert response.status_code == 200, operation.path
