"""The typed records of kept artifacts: files, problems, instances, runs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ARTIFACTS_VERSION = 1


class FileKind(enum.StrEnum):
    """What a kept entry is."""

    FILE = "file"
    SYMLINK = "symlink"


class FileMode(enum.StrEnum):
    """Where ``artifacts ls`` finds a file (``sealed`` belongs to sealing)."""

    LIVE = "live"
    ARCHIVED = "archived"
    SEALED = "sealed"


class ProblemKind(enum.StrEnum):
    """Why a file could not be kept."""

    UNREADABLE = "unreadable"
    VANISHED = "vanished"
    SPECIAL = "special"
    LINK_OUTSIDE = "link-outside"
    SHADOWED = "shadowed"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptFile:
    """One entry of ``index.json``: a kept file or link of an instance."""

    instance: str
    path: str
    size: int
    sha256: str | None
    permissions: str
    kind: FileKind = FileKind.FILE
    target: str | None = None
    # Now ``<path>.age``; size and sha256 are the plaintext's only with keepHashes.
    sealed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As ``index.json`` holds it."""
        data: dict[str, Any] = {
            "instance": self.instance,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "permissions": self.permissions,
            "type": str(self.kind),
        }
        if self.target is not None:
            data["target"] = self.target
        if self.sealed:
            data["sealed"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], instance: str | None = None) -> KeptFile:
        """Read back an entry (the instance may be given by where it was found)."""
        target = data.get("target")
        sha = data.get("sha256")
        return cls(
            instance=instance or str(data.get("instance", "")),
            path=str(data["path"]),
            size=int(data.get("size") or 0),
            sha256=sha if isinstance(sha, str) else None,
            permissions=str(data.get("permissions", "0644")),
            kind=FileKind(data.get("type", "file")),
            target=target if isinstance(target, str) else None,
            sealed=data.get("sealed") is True,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One file the keep step could not keep (``errors[]``) or a warning."""

    path: str
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """As ``metadata.json`` lists it."""
        return {"path": self.path, "kind": self.kind, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """Read back."""
        return cls(
            path=str(data.get("path", "")),
            kind=str(data.get("kind", "")),
            message=str(data.get("message", "")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepResult:
    """What keeping one stage produced."""

    files: tuple[KeptFile, ...] = ()
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def bytes(self) -> int:
        """Total size of the kept regular files."""
        return sum(f.size for f in self.files if f.kind is FileKind.FILE)

    @property
    def partial(self) -> bool:
        """Whether anything could not be kept."""
        return bool(self.errors)


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectResult:
    """The seed's collect answer: ``{status, team_session_id, artifacts_path, ...}``."""

    status: str  # success | partial | error
    team_session_id: str
    artifacts_path: str | None
    instances_count: int
    metadata: Mapping[str, Any] | None = None
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``artifacts collect`` prints."""
        data: dict[str, Any] = {
            "status": self.status,
            "team_session_id": self.team_session_id,
            "artifacts_path": self.artifacts_path,
            "instances_count": self.instances_count,
            "metadata": dict(self.metadata) if self.metadata is not None else None,
        }
        if self.error is not None:
            data["error"] = self.error
        return data
