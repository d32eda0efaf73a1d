"""Registry artifacts and gates during a run (driver thread only).

Inputs (artifacts a stage of the run consumes but none produces) are validated before
the first stage runs; an invalid one blocks its consumers (``artifact:<name>``). A
producer's artifacts are validated when it succeeds: an invalid or missing one fails
the stage with reason ``artifact-invalid`` (its error file lists every finding), which
blocks its dependents. A valid artifact's gates are evaluated at once: ``block`` keeps
stages from running (``gate:<id>``), ``halt`` cancels the run, ``warn`` adds a summary
line; ``if: gate:<id>`` stages run only when it fired. Evidence: the manifest's
``artifacts[]`` and ``gates[]``, events ``artifact:validated`` and ``gate:evaluated``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from codex_orchestrator.engine.context import RunContext
from codex_orchestrator.engine.scheduler import Scheduler
from codex_orchestrator.model import (
    CommandRecord,
    CommandStatus,
    ErrorReason,
    Pipeline,
    now_iso,
)
from codex_orchestrator.model.registry import ALL_CONSUMERS, ArtifactSpec, Registry
from codex_orchestrator.store.evidence import ErrorReport, write_error_file

ARTIFACTS_KEY = "artifacts"
GATES_KEY = "gates"
HALT_PREFIX = "gate:"


def run_registry(ctx: RunContext) -> Registry | None:
    """The registry of the run's config (None: no registry, nothing to watch)."""
    return ctx.settings.config.registry


class ArtifactWatch:
    """What a run validates, and the decisions its gates take."""

    def __init__(self, ctx: RunContext, pipeline: Pipeline, scheduler: Scheduler) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        registry = run_registry(ctx)
        self.registry = registry
        self.gates = ctx.settings.config.gates
        stage_ids = [stage.id for stage in pipeline.stages]
        self.outputs: dict[str, list[ArtifactSpec]] = {}
        self.inputs: list[ArtifactSpec] = []
        self.consumers: dict[str, list[str]] = {}
        self.checked: dict[str, Any] = {}
        if registry is None:
            return
        for spec in registry.artifacts.values():
            producers = [s.id for s in pipeline.stages if spec.name in s.produces]
            if spec.producer in stage_ids:
                producers.append(spec.producer)
            consumers = [
                s.id
                for s in pipeline.stages
                if spec.name in s.consumes or spec.consumed_by(s.id) or spec.file_name in s.consumes
            ]
            self.consumers[spec.name] = consumers
            for producer in dict.fromkeys(producers):
                self.outputs.setdefault(producer, []).append(spec)
            if not producers and consumers:
                self.inputs.append(spec)

    @property
    def active(self) -> bool:
        """Whether this run has artifacts to validate."""
        return bool(self.outputs or self.inputs)

    def start(self) -> None:
        """Record every artifact as pending (or as it stands), then validate the inputs."""
        if not self.active:
            return
        from codex_orchestrator.artifacts.validate import pending_entry

        manifest = self.ctx.manifest
        known = {
            e.get("name") for e in manifest.extra.get(ARTIFACTS_KEY, []) if isinstance(e, dict)
        }
        entries = list(manifest.extra.get(ARTIFACTS_KEY, []))
        for spec in [*self.inputs, *(s for specs in self.outputs.values() for s in specs)]:
            if spec.name not in known:
                entries.append(pending_entry(spec))
                known.add(spec.name)
        self._set(ARTIFACTS_KEY, entries)
        # Inputs, and (on resume) what producers that succeeded before left on disk.
        done = self.scheduler.finished
        earlier = [s for stage, specs in self.outputs.items() if stage in done for s in specs]
        for spec in [*self.inputs, *earlier]:
            checked = self._validate(spec)
            if not checked.valid:
                self.scheduler.block(self.consumers.get(spec.name, []), f"artifact:{spec.name}")
            else:
                self._evaluate_gates(spec, checked.document)

    def after_stage(self, record: CommandRecord) -> CommandRecord:
        """Validate what a succeeded stage produced; an invalid artifact fails the stage."""
        specs = self.outputs.get(record.id)
        if not specs or record.status is not CommandStatus.SUCCEEDED:
            return record
        results = [self._validate(spec) for spec in specs]
        bad = [checked for checked in results if not checked.valid]
        if bad:
            return self._fail(record, bad)
        for checked in results:
            self._evaluate_gates(checked.spec, checked.document)
        return record

    def _validate(self, spec: ArtifactSpec) -> Any:
        from codex_orchestrator.artifacts.validate import validate_artifact

        assert self.registry is not None  # noqa: S101 - only called with a registry
        checked = validate_artifact(
            spec, self.ctx.settings.layout.root, self.registry, self.checked.get
        )
        self.checked[spec.name] = checked
        entry = checked.to_dict()
        entries = [
            e
            for e in self.ctx.manifest.extra.get(ARTIFACTS_KEY, [])
            if not (isinstance(e, dict) and e.get("name") == spec.name)
        ]
        self._set(ARTIFACTS_KEY, [*entries, entry])
        self.ctx.events.event(
            "artifact:validated",
            name=spec.name,
            path=spec.path,
            status=checked.status,
            sha256=checked.sha256,
            size_bytes=checked.size_bytes,
            findings=entry["findings"],
        )
        return checked

    def _evaluate_gates(self, spec: ArtifactSpec, document: Any) -> None:
        from codex_orchestrator.artifacts.gates import gate_entry, gate_fires

        for gate in self.gates:
            if gate.artifact != spec.name:
                continue
            fired = gate_fires(gate, document)
            stages = gate.stages or tuple(
                c for c in self.consumers.get(spec.name, []) if c != ALL_CONSUMERS
            )
            entry = gate_entry(gate, fired=fired, stages=stages)
            others = [
                g
                for g in self.ctx.manifest.extra.get(GATES_KEY, [])
                if not (isinstance(g, dict) and g.get("id") == gate.id)
            ]
            self._set(GATES_KEY, [*others, entry])
            self.ctx.events.event("gate:evaluated", **entry)
            self.scheduler.gate(gate.id, fired=fired)
            if not fired:
                continue
            if gate.action == "block":
                self.scheduler.block(stages, f"gate:{gate.id}")
            elif gate.action == "halt":
                self.ctx.settings.cancel.request(f"{HALT_PREFIX}{gate.id}")

    def _fail(self, record: CommandRecord, bad: list[Any]) -> CommandRecord:
        ctx = self.ctx
        findings = tuple({"artifact": c.spec.name, **f.to_dict()} for c in bad for f in c.findings)
        first = bad[0]
        problem = next((f.message for f in first.findings if f.severity == "error"), "invalid")
        error_path = ctx.paths.error_file(record.index, record.id)
        write_error_file(
            error_path,
            ErrorReport(
                run_id=ctx.manifest.run_id,
                task_id=ctx.manifest.task_id,
                command_index=record.index,
                command_id=record.id,
                command=record.command,
                reason=ErrorReason.ARTIFACT_INVALID,
                exit_code=record.exit_code,
                signal=record.signal,
                duration_ms=record.duration_ms,
                stdout_tail="",
                stderr_tail="",
                stdout_truncated=False,
                stderr_truncated=False,
                message=f"artifact {first.spec.name} is {first.status}",
                findings=findings,
            ),
        )
        return dataclasses.replace(
            record,
            status=CommandStatus.FAILED,
            completed_at=now_iso(),
            summary=f"Artifact {first.spec.name} {first.status}: {problem}",
            error_file=ctx.paths.relative(error_path),
        )

    def _set(self, key: str, value: list[Any]) -> None:
        manifest = self.ctx.manifest
        self.ctx.update(manifest.replace(extra={**manifest.extra, key: value}))


def gate_summary_lines(extra: dict[str, Any]) -> list[str]:
    """Summary lines of fired gates (``warn`` and ``block`` say so; ``halt`` has its own)."""
    lines = []
    for gate in extra.get(GATES_KEY, []) or []:
        if not isinstance(gate, dict) or not gate.get("fired"):
            continue
        message = f": {gate['message']}" if gate.get("message") else ""
        action = gate.get("action")
        if action == "warn":
            lines.append(f"Warning: gate {gate.get('id')} fired{message}")
        elif action == "block":
            stages = ", ".join(gate.get("stages") or [])
            lines.append(f"Gate {gate.get('id')} blocked {stages}{message}")
    return lines
