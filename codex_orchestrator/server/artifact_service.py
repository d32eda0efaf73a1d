"""What the artifact endpoints and tools answer, through the ``artifacts`` readers.

Collecting is the only thing the server writes, and it writes through
``artifacts.requests.collect_run``, exactly as ``artifacts collect`` does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from codex_orchestrator.artifacts import listing
from codex_orchestrator.artifacts.requests import RunRequest, collect_run, settings_for
from codex_orchestrator.artifacts.runs import RunArtifacts, confined, open_ref
from codex_orchestrator.artifacts.search import search
from codex_orchestrator.errors import InvalidInput, ManifestUnreadable, RunNotFound
from codex_orchestrator.server.artifact_models import (
    ArtifactContent,
    ArtifactFile,
    ArtifactMetadata,
    ArtifactRun,
    CollectResponse,
    SearchHit,
)
from codex_orchestrator.server.service import RunsService
from codex_orchestrator.store.layout import validate_run_id, validate_task_id

READ_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArtifactsService:
    """The kept artifacts of one repository's runs."""

    runs: RunsService
    artifacts_dir: str | None

    @classmethod
    def for_runs(cls, runs: RunsService) -> ArtifactsService:
        """The service over the same tree, honouring the config's ``artifacts.dir``."""
        settings = settings_for(runs.root, None, lambda _: None)
        return cls(runs=runs, artifacts_dir=settings.dir)

    def open(self, run_id: str) -> RunArtifacts:
        """A run and where its artifacts are (a run outside ``.runs`` is not found)."""
        run = open_ref(self.runs.layout, self.runs.locate(run_id), self.artifacts_dir)
        if not confined(run, run.paths.root):
            raise RunNotFound(f"run {run_id}: its artifacts are linked out of the tree")
        return run

    def collect(self, run_id: str) -> CollectResponse:
        """Rebuild the run's metadata, summary and index (the one write)."""
        self.runs.locate(run_id)  # validated and confined before anything is written
        warnings: list[str] = []
        result = collect_run(RunRequest(root=self.runs.root, run_id=run_id), warnings.append)
        return CollectResponse(**result.to_dict(), warnings=[*warnings, *result.warnings])

    def runs_with_artifacts(self, task: str | None = None) -> list[ArtifactRun]:
        """Runs with collected artifacts, newest first."""
        if task is not None:
            validate_task_id(task)
        return [ArtifactRun(**row) for row in listing.list_runs(self.runs.layout, task)]

    def metadata(self, run_id: str) -> ArtifactMetadata:
        """The run's collected ``metadata.json`` (RunNotFound when never collected)."""
        run = self.open(run_id)
        if not confined(run, run.paths.metadata):
            raise RunNotFound(f"run {run_id}: its metadata.json is linked out of the tree")
        document = listing.show(run)
        try:
            return ArtifactMetadata.model_validate(document)
        except ValidationError as exc:
            count = exc.error_count()
            raise ManifestUnreadable(
                f"run {run_id}: metadata.json does not have the expected shape ({count} errors)"
            ) from None

    def files(self, run_id: str, instance: str | None = None) -> list[ArtifactFile]:
        """Kept, live and sealed files of a run."""
        run = self.open(run_id)
        return [
            ArtifactFile(**item.to_dict())
            for item in listing.ls(run, instance)
            if self._workspace_confined(run, item.entry.instance)
        ]

    def _workspace_confined(self, run: RunArtifacts, instance_id: str) -> bool:
        """Whether an instance's workspace lies in the run's artifact tree (and is named so)."""
        try:
            return confined(run, run.paths.instance_by_id(instance_id).workspace)
        except InvalidInput:
            return False

    def stream(self, run_id: str, path: str) -> Iterator[bytes]:
        """A kept file's bytes; errors (absent, refused) raise before the first chunk."""
        run = self.open(run_id)
        try:
            chunks = iter(listing.open_file(run, path))
        except OSError as exc:  # e.g. a path too long for this file system
            raise InvalidInput(f"artifact path {path[:40]!r}: {exc.strerror or exc}") from None
        first = next(chunks, b"")

        def all_chunks() -> Iterator[bytes]:
            yield first
            yield from chunks

        return all_chunks()

    def read(self, run_id: str, path: str, limit: int = READ_LIMIT) -> ArtifactContent:
        """Up to ``limit`` bytes of a kept file: text when UTF-8, else base64."""
        data = bytearray()
        truncated = False
        for chunk in self.stream(run_id, path):
            data += chunk
            if len(data) > limit:
                truncated = True
                del data[limit:]
                break
        raw = bytes(data)
        try:
            text: str | None = raw.decode("utf-8")
            encoded = None
        except UnicodeDecodeError:
            text, encoded = None, base64.b64encode(raw).decode()
        return ArtifactContent(
            run_id=run_id,
            path=path,
            size=len(raw),
            truncated=truncated,
            text=text,
            base64=encoded,
        )

    def search(
        self, query: str, *, task: str | None, run_id: str | None, limit: int
    ) -> list[SearchHit]:
        """Full-text hits over kept text files and output logs."""
        hits = search(
            self.runs.layout,
            query,
            task=validate_task_id(task) if task else None,
            run_id=validate_run_id(run_id) if run_id else None,
            limit=limit,
        )
        return [SearchHit(**hit) for hit in hits]
