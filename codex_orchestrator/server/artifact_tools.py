"""The MCP tools over kept artifacts: collect (the one write), list, read, search."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from codex_orchestrator.server.artifact_models import (
    ArtifactContent,
    ArtifactListing,
    CollectResponse,
    SearchHit,
)
from codex_orchestrator.server.artifact_service import READ_LIMIT, ArtifactsService
from codex_orchestrator.server.mcp_tools import COLLECT, READ_ONLY, answer


def add_artifact_tools(server: MCPServer[Any], service: ArtifactsService) -> None:
    """Register the artifact tools on ``server``."""

    @server.tool(annotations=COLLECT)
    def collect_team_artifacts(team_session_id: str) -> CollectResponse:
        """Collect a run's artifacts (team_session_id is the run id): rebuilds its
        metadata.json, summary.md and index.json; status success, partial or error."""
        return answer(lambda: service.collect(team_session_id))

    @server.tool(annotations=READ_ONLY)
    def list_artifacts(run_id: str | None = None, task: str | None = None) -> ArtifactListing:
        """Without run_id: the runs with collected artifacts (GET /artifacts/list). With
        run_id: that run's kept, live and sealed files (GET /artifacts/{run_id}/files)."""
        if run_id is not None:
            return answer(lambda: ArtifactListing(files=service.files(run_id)))
        return answer(lambda: ArtifactListing(runs=service.runs_with_artifacts(task)))

    @server.tool(annotations=READ_ONLY)
    def read_artifact(run_id: str, path: str, max_bytes: int = READ_LIMIT) -> ArtifactContent:
        """A kept file's content, path as <instance>/<path> (text when UTF-8, else base64;
        at most max_bytes, at most 1 MiB)."""
        limit = max(1, min(max_bytes, READ_LIMIT))
        return answer(lambda: service.read(run_id, path, limit))

    @server.tool(annotations=READ_ONLY)
    def search_artifacts(
        query: str, task: str | None = None, run_id: str | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Full-text search over kept text files and output logs (GET /search)."""
        bounded = max(1, min(limit, 500))
        return answer(lambda: service.search(query, task=task, run_id=run_id, limit=bounded))
