"""The artifact registry and gates as configured (LAYERS.md section 1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALL_CONSUMERS = "ALL"
FORMATS = ("json", "yaml", "sql", "openapi", "markdown", "text", "binary")
GATE_ACTIONS = ("block", "halt", "warn")


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactSpec:
    """One registry artifact: where it lives, who makes and reads it, and its rules."""

    name: str
    path: str  # relative to the repository root
    format: str
    producer: str | None = None
    consumers: tuple[str, ...] = ()  # stage ids; ("ALL",) = every stage
    rules: Mapping[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        """The last part of ``path`` (``artifact_validation`` may be keyed by it)."""
        return self.path.rsplit("/", 1)[-1]

    def consumed_by(self, stage_id: str) -> bool:
        """Whether the registry names ``stage_id`` among the consumers (not via ALL)."""
        return stage_id in self.consumers


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Every artifact of the registry, by name; ``source`` names where it came from."""

    source: str
    artifacts: Mapping[str, ArtifactSpec] = field(default_factory=dict)
    base: str = "."  # directory schema paths are relative to (repository-relative)

    def find(self, name: str) -> ArtifactSpec | None:
        """An artifact by name or by file name."""
        spec = self.artifacts.get(name)
        if spec is not None:
            return spec
        for candidate in self.artifacts.values():
            if name in (candidate.file_name, candidate.path):
                return candidate
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """A decision on an artifact: when ``when`` (JMESPath) is truthy, the gate fires."""

    id: str
    artifact: str
    when: str
    action: str = "block"
    stages: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    message: str | None = None
