"""Secret scanning before anything is committed: the seed's patterns, detect-secrets, config.

A finding names the file, the line, the kind and a hash of the value; the value itself
is never kept, printed or written. Lines marked ``pragma: allowlist secret`` (or below
a ``pragma: allowlist nextline secret``) pass, as do entries of the repository's
detect-secrets ``.secrets.baseline`` (unless audited as real, ``is_secret: true``).
detect-secrets is imported only here, only when a scan runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.artifacts.secret_detect import detect_secrets_hits
from codex_orchestrator.artifacts.secret_patterns import (
    SEED_PATTERNS,
    SecretPattern,
    custom_patterns,
    matches,
)
from codex_orchestrator.errors import OrchestratorError

BASELINE_NAME = ".secrets.baseline"
_ALLOW = re.compile(r"pragma:\s*allowlist[ -]secret", re.IGNORECASE)
_ALLOW_NEXT = re.compile(r"pragma:\s*allowlist[ -]nextline[ -]secret", re.IGNORECASE)
_BINARY_PROBE = 8192
MAX_SHOWN = 10
# Larger files are scanned line by line with the patterns only, so memory stays bounded.
WHOLE_FILE_LIMIT = 8 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_LINE_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One secret found: where, what kind, and a hash standing in for the value."""

    path: str
    line: int
    kind: str
    value_hash: str

    def to_dict(self) -> dict[str, Any]:
        """As reported in JSON."""
        return {"path": self.path, "line": self.line, "kind": self.kind, "hash": self.value_hash}

    def describe(self) -> str:
        """``path:line kind (sha256:...)``."""
        return f"{self.path}:{self.line} {self.kind} ({self.value_hash})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanTarget:
    """A file to scan: its bytes are read from ``source``; it is reported as ``path``."""

    path: str
    source: Path


class SecretsFound(OrchestratorError):
    """The scan found secrets: nothing was committed (exit 2)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        shown = "; ".join(finding.describe() for finding in findings[:MAX_SHOWN])
        more = f"; and {len(findings) - MAX_SHOWN} more" if len(findings) > MAX_SHOWN else ""
        count = f"{len(findings)} secret{'s' if len(findings) != 1 else ''}"
        super().__init__(f"{count} found, nothing committed: {shown}{more}")
        self.findings = tuple(findings)


def value_hash(value: str) -> str:
    """What a finding shows instead of the value."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class Baseline:
    """A detect-secrets baseline: ``(filename, sha1 of the value)`` pairs that may pass."""

    def __init__(self, allowed: set[tuple[str, str]]) -> None:
        self.allowed = allowed

    @classmethod
    def load(cls, repo_root: Path) -> Baseline:
        """The repository's ``.secrets.baseline``; empty when there is none."""
        path = repo_root / BASELINE_NAME
        try:
            document = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return cls(set())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise OrchestratorError(f"{BASELINE_NAME}: not a readable baseline: {exc}") from exc
        results = document.get("results") if isinstance(document, dict) else None
        allowed: set[tuple[str, str]] = set()
        for filename, entries in (results or {}).items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and entry.get("is_secret") is not True:
                    allowed.add((str(filename), str(entry.get("hashed_secret"))))
        return cls(allowed)

    def allows(self, path: str, value: str) -> bool:
        """Whether the baseline lists this value in this file."""
        sha1 = hashlib.sha1(value.encode("utf-8", "surrogateescape")).hexdigest()  # noqa: S324
        return (path, sha1) in self.allowed


class SecretScanner:
    """Scans files with the seed's patterns, the configured ones and detect-secrets."""

    def __init__(self, extra_patterns: Sequence[str], baseline: Baseline) -> None:
        self.patterns: tuple[SecretPattern, ...] = (
            *SEED_PATTERNS,
            *custom_patterns(extra_patterns),
        )
        self.baseline = baseline

    def scan(self, targets: Iterable[ScanTarget]) -> list[Finding]:
        """Every finding in ``targets``, in file and line order, each value once per line."""
        found: dict[tuple[str, int, str], Finding] = {}
        texts: list[ScanTarget] = []
        for target in targets:
            if target.source.stat().st_size > WHOLE_FILE_LIMIT:
                # Read line by line, memory bounded; detect-secrets would read it whole.
                hits = self._hits(_stream_lines(target.source), self.patterns)
            else:
                data = target.source.read_bytes()
                binary = _is_binary(data)
                if not binary:
                    texts.append(target)
                hits = self._regex_hits(data, binary)
            for line_number, value, kind in hits:
                self._add(found, target.path, line_number, value, kind)
        for target, line_number, value, kind in detect_secrets_hits(texts):
            self._add(found, target.path, line_number, value, kind)
        return sorted(found.values(), key=lambda f: (f.path, f.line, f.kind))

    def _add(
        self,
        found: dict[tuple[str, int, str], Finding],
        path: str,
        line: int,
        value: str,
        kind: str,
    ) -> None:
        if self.baseline.allows(path, value):
            return
        digest = value_hash(value)
        key = (path, line, digest)
        if key not in found:
            found[key] = Finding(path=path, line=line, kind=kind, value_hash=digest)

    def _regex_hits(self, data: bytes, binary: bool) -> Iterator[tuple[int, str, str]]:
        # Binary files are read byte for byte (latin-1), so an embedded key still shows.
        text = data.decode("latin-1") if binary else data.decode("utf-8", "surrogateescape")
        patterns = [p for p in self.patterns if p.hint is None or p.hint.search(text)]
        if not patterns:
            return
        yield from self._hits(enumerate(text.split("\n"), start=1), patterns)

    def _hits(
        self, lines: Iterable[tuple[int, str]], patterns: Sequence[SecretPattern]
    ) -> Iterator[tuple[int, str, str]]:
        allow_next = False
        for number, line in lines:
            allowed = allow_next or bool(_ALLOW.search(line))
            allow_next = bool(_ALLOW_NEXT.search(line))
            if allowed:
                continue
            for pattern in patterns:
                for value in matches(pattern, line):
                    yield number, value, pattern.kind


def _stream_lines(path: Path) -> Iterator[tuple[int, str]]:
    """A large file's lines (over-long ones in pieces), decoded so that no byte is lost."""
    from codex_orchestrator.engine.lines import LineSplitter

    splitter = LineSplitter(max_line=_LINE_PIECE)
    number = 1
    with path.open("rb") as stream:
        while chunk := stream.read(_READ_CHUNK):
            for pieces, partial in splitter.feed(chunk):
                for piece in pieces:
                    yield number, piece.decode("utf-8", "surrogateescape")
                    number += 0 if partial else 1
        for pieces, _ in splitter.close():
            for piece in pieces:
                yield number, piece.decode("utf-8", "surrogateescape")


def _is_binary(data: bytes) -> bool:
    if b"\0" in data[:_BINARY_PROBE]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
