"""A finished run, as the commands report it."""

from __future__ import annotations

from dataclasses import dataclass

from codex_orchestrator.errors import ExitCode
from codex_orchestrator.model import ChildRun, RunManifest, RunStatus
from codex_orchestrator.store.layout import RunPaths


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """A finished run: its final manifest and where it lives."""

    manifest: RunManifest
    paths: RunPaths

    @property
    def exit_code(self) -> ExitCode:
        """0 succeeded, 1 failed, 130 cancelled."""
        return exit_code_for(self.manifest.status)

    def as_child(self) -> ChildRun:
        """This run as its parent's ``child_runs[]`` lists it."""
        return ChildRun(
            run_id=self.manifest.run_id,
            pipeline_id=self.manifest.pipeline_id,
            status=self.manifest.status,
            manifest=self.paths.relative(self.paths.manifest),
        )

    def document(self) -> dict[str, object]:
        """The one JSON document ``--format json`` prints."""
        manifest = self.manifest
        return {
            "run_id": manifest.run_id,
            "task_id": manifest.task_id,
            "pipeline_id": manifest.pipeline_id,
            "status": str(manifest.status),
            "status_detail": manifest.status_detail,
            "artifact_root": manifest.artifact_root,
            "manifest": self.paths.relative(self.paths.manifest),
            "log_path": manifest.log_path,
            "summary": manifest.summary,
        }


def exit_code_for(status: RunStatus) -> ExitCode:
    """The process exit code a run's final status maps to."""
    if status is RunStatus.SUCCEEDED:
        return ExitCode.OK
    if status is RunStatus.CANCELLED:
        return ExitCode.CANCELLED
    return ExitCode.RUN_FAILED
