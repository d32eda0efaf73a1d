"""``artifacts check``: validate the registry's artifacts as they are on disk now.

Nothing is run and nothing is written. With a pipeline, only the artifacts its stages
produce or consume; without, every artifact of the registry. Gates on valid artifacts
are evaluated and reported (they decide nothing here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_orchestrator.artifacts.gates import gate_entry, gate_fires
from codex_orchestrator.artifacts.registry import load_registry
from codex_orchestrator.artifacts.validate import Checked, validate_artifact
from codex_orchestrator.config import load_run_config, select_pipeline
from codex_orchestrator.config_fields import FieldReader
from codex_orchestrator.errors import ExitCode, InvalidInput


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRequest:
    """What ``artifacts check`` was asked to do."""

    root: Path
    pipeline: str | None = None
    config: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """Every artifact checked, every gate evaluated."""

    registry: str
    pipeline_id: str | None
    checked: tuple[Checked, ...]
    gates: tuple[dict[str, Any], ...]

    @property
    def valid(self) -> bool:
        """No artifact is invalid or missing."""
        return all(c.valid for c in self.checked)

    @property
    def exit_code(self) -> ExitCode:
        """0 when every artifact is valid, else 1."""
        return ExitCode.OK if self.valid else ExitCode.RUN_FAILED

    def to_dict(self) -> dict[str, Any]:
        """The one JSON document ``--format json`` prints."""
        return {
            "registry": self.registry,
            "pipeline_id": self.pipeline_id,
            "valid": self.valid,
            "artifacts": [c.to_dict() for c in self.checked],
            "gates": list(self.gates),
        }


def check_artifacts(request: CheckRequest, warn: Callable[[str], None]) -> CheckReport:
    """Validate what is on disk now; InvalidInput (exit 2) when there is no registry."""
    config, _ = load_run_config(request.root, request.config, warn)
    registry = config.registry
    if registry is None:
        reader = FieldReader("registry")
        registry = load_registry(reader, None, request.root)
    if registry is None:
        raise InvalidInput(
            "no artifact registry: set the config key registry, "
            "or create .agent-artifacts/registry.yml"
        )
    specs = list(registry.artifacts.values())
    pipeline_id = None
    if request.pipeline is not None:
        pipeline = select_pipeline(config, request.pipeline)
        pipeline_id = pipeline.id
        named = {n for s in pipeline.stages for n in (*s.produces, *s.consumes)}
        ids = {s.id for s in pipeline.stages}
        specs = [
            s
            for s in specs
            if s.name in named or s.producer in ids or any(c in ids for c in s.consumers)
        ]
    done: dict[str, Checked] = {}
    for spec in specs:
        done[spec.name] = validate_artifact(spec, request.root, registry, done.get)
    gates = []
    for gate in config.gates:
        checked = done.get(gate.artifact)
        if checked is not None and checked.valid:
            fired = gate_fires(gate, checked.document)
            gates.append(gate_entry(gate, fired=fired, stages=gate.stages))
    return CheckReport(
        registry=registry.source,
        pipeline_id=pipeline_id,
        checked=tuple(done.values()),
        gates=tuple(gates),
    )
