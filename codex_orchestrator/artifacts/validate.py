"""Validating one registry artifact on disk: its format, then its rules.

Each check yields findings ``{rule, severity, message}``; ``error`` (the default, or
the entry's ``severity``, or a rule given as ``{value, severity}``) makes the artifact
invalid, ``warn`` is recorded only. The libraries of each format are imported only
when an artifact of that format is checked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from codex_orchestrator.model import now_iso
from codex_orchestrator.model.registry import ArtifactSpec, Registry

ERROR = "error"
WARN = "warn"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB|GB|GIB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1024, "KIB": 1024, "MB": 1024**2, "MIB": 1024**2, "GB": 1024**3}
_UNITS["GIB"] = 1024**3
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth a warning) with an artifact."""

    rule: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """As the manifest and error files record it."""
        return {"rule": self.rule, "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """An artifact as validated: the manifest's ``artifacts[]`` entry, and its content."""

    spec: ArtifactSpec
    status: str  # valid | invalid | missing
    sha256: str | None = None
    size_bytes: int | None = None
    validated_at: str = ""
    findings: tuple[Finding, ...] = ()
    document: Any = field(default=None, compare=False)
    mtime_ns: int = 0

    @property
    def valid(self) -> bool:
        """No error finding."""
        return self.status == "valid"

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``artifacts[]`` entry (LAYERS.md field names)."""
        return {
            "name": self.spec.name,
            "path": self.spec.path,
            "producer": self.spec.producer,
            "format": self.spec.format,
            "status": self.status,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "validated_at": self.validated_at,
            "findings": [f.to_dict() for f in self.findings],
        }


def pending_entry(spec: ArtifactSpec) -> dict[str, Any]:
    """An artifact not validated yet."""
    return {
        "name": spec.name,
        "path": spec.path,
        "producer": spec.producer,
        "format": spec.format,
        "status": "pending",
        "sha256": None,
        "size_bytes": None,
        "validated_at": None,
        "findings": [],
    }


def validate_artifact(
    spec: ArtifactSpec,
    root: Path,
    registry: Registry,
    lookup: Callable[[str], Checked | None] | None = None,
) -> Checked:
    """Validate ``spec``'s file under ``root`` (``lookup``: results of other artifacts)."""
    path = root / spec.path
    stamp = now_iso()
    default = spec.rules.get("severity", ERROR)
    severity = default if default in (ERROR, WARN) else ERROR
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        finding = Finding("exists", ERROR, f"{spec.path}: {exc.strerror or 'cannot be read'}")
        return Checked(spec=spec, status="missing", validated_at=stamp, findings=(finding,))
    findings: list[Finding] = []
    document = _parse(spec, raw, findings, severity)
    rules = _Rules(spec, root, registry, raw, document, severity, lookup, mtime)
    findings.extend(rules.check())
    invalid = any(f.severity == ERROR for f in findings)
    return Checked(
        spec=spec,
        status="invalid" if invalid else "valid",
        sha256=hashlib.sha256(raw).hexdigest(),
        size_bytes=len(raw),
        validated_at=stamp,
        findings=tuple(findings),
        document=document,
        mtime_ns=mtime,
    )


def _parse(spec: ArtifactSpec, raw: bytes, findings: list[Finding], severity: str) -> Any:
    fmt = spec.format
    if fmt == "binary":
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(Finding("format", severity, f"not UTF-8 text (byte {exc.start})"))
        return None
    try:
        if fmt == "json":
            return orjson.loads(raw)
        if fmt in ("yaml", "openapi"):
            import yaml

            document = yaml.safe_load(text)
            if fmt == "openapi":
                _check_openapi(document, findings, severity)
            return document
        if fmt == "sql":
            return _parse_sql(text, findings, severity)
    except orjson.JSONDecodeError as exc:
        findings.append(Finding("format", severity, f"invalid JSON: {exc}"))
    except Exception as exc:
        findings.append(Finding("format", severity, f"invalid {fmt}: {_one_line(exc)}"))
    return text if fmt in ("markdown", "text") else None


def _check_openapi(document: Any, findings: list[Finding], severity: str) -> None:
    from openapi_spec_validator import validate

    if not isinstance(document, dict):
        findings.append(Finding("format", severity, "an OpenAPI document must be a mapping"))
        return
    try:
        validate(document)
    except Exception as exc:
        findings.append(
            Finding("format", severity, f"not a valid OpenAPI document: {_one_line(exc)}")
        )


def _parse_sql(text: str, findings: list[Finding], severity: str) -> Any:
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(text)
    except sqlglot.errors.ParseError as exc:
        findings.append(Finding("format", severity, f"invalid SQL: {_one_line(exc)}"))
        return None
    tables = []
    for statement in statements:
        if (
            isinstance(statement, exp.Create)
            and str(statement.args.get("kind", "")).upper() == "TABLE"
        ):
            table = statement.find(exp.Table)
            if table is not None:
                tables.append(table.name.lower())
    return {"tables": tables}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")


class _Rules:
    """The rules of one artifact, checked against its content."""

    def __init__(
        self,
        spec: ArtifactSpec,
        root: Path,
        registry: Registry,
        raw: bytes,
        document: Any,
        severity: str,
        lookup: Callable[[str], Checked | None] | None,
        mtime: int,
    ) -> None:
        self.spec, self.root, self.registry = spec, root, registry
        self.raw, self.document, self.severity = raw, document, severity
        self.lookup, self.mtime = lookup, mtime

    def _rule(self, name: str) -> tuple[Any, str]:
        value = self.spec.rules.get(name, _MISSING)
        if isinstance(value, dict) and "value" in value:
            severity = value.get("severity", self.severity)
            return value["value"], severity if severity in (ERROR, WARN) else ERROR
        return value, self.severity

    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        for name, method in (
            ("max_size", self._max_size),
            ("required_fields", self._required_fields),
            ("schema", self._schema),
            ("minimum_coverage", self._coverage),
            ("required_tables", self._tables),
            ("version", self._version),
            ("depends_on", self._depends_on),
        ):
            value, severity = self._rule(name)
            if value is not _MISSING:
                findings.extend(Finding(name, s or severity, m) for s, m in method(value))
        return findings

    def _max_size(self, value: Any) -> list[tuple[str | None, str]]:
        limit = parse_size(value)
        if limit is None:
            return [(ERROR, f"max_size {value!r} is not a size like 100KB")]
        if len(self.raw) > limit:
            return [(None, f"{len(self.raw)} bytes is more than {value} ({limit} bytes)")]
        return []

    def _required_fields(self, value: Any) -> list[tuple[str | None, str]]:
        fields = value if isinstance(value, list) else [value]
        return [
            (None, f"required field {name} is missing")
            for name in fields
            if dotted(self.document, str(name)) is _MISSING
        ]

    def _schema(self, value: Any) -> list[tuple[str | None, str]]:
        import jsonschema

        schema = value
        if isinstance(value, str):
            path = self.root / self.registry.base / value
            try:
                text = path.read_text(encoding="utf-8")
                import yaml

                schema = yaml.safe_load(text)
            except (OSError, UnicodeDecodeError) as exc:
                return [(ERROR, f"schema {value}: cannot be read ({exc})")]
        try:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
            errors = sorted(validator_class(schema).iter_errors(self.document), key=str)
        except jsonschema.SchemaError as exc:
            return [(ERROR, f"the schema is not valid: {exc.message}")]
        return [(None, f"{_pointer(e.absolute_path)}: {e.message}") for e in errors]

    def _coverage(self, value: Any) -> list[tuple[str | None, str]]:
        for where in ("coverage", "summary.coverage"):
            found = dotted(self.document, where)
            if isinstance(found, int | float) and not isinstance(found, bool):
                if found < value:
                    return [(None, f"coverage {found} is below the minimum {value}")]
                return []
        return [(None, "no number at coverage or summary.coverage")]

    def _tables(self, value: Any) -> list[tuple[str | None, str]]:
        present = set(self.document.get("tables", [])) if isinstance(self.document, dict) else set()
        wanted = value if isinstance(value, list) else [value]
        return [
            (None, f"table {t} is not created") for t in wanted if str(t).lower() not in present
        ]

    def _version(self, value: Any) -> list[tuple[str | None, str]]:
        doc = self.document if isinstance(self.document, dict) else {}
        found = doc.get("openapi", doc.get("swagger", doc.get("version")))
        if found is None or not str(found).startswith(str(value)):
            return [(None, f"version {found!r} does not start with {value!r}")]
        return []

    def _depends_on(self, value: Any) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        for name in value if isinstance(value, list) else [value]:
            other = self.registry.find(str(name))
            if other is None:
                out.append((None, f"depends on {name}, which is not in the registry"))
                continue
            checked = self.lookup(other.name) if self.lookup else None
            if checked is None:
                checked = validate_artifact(other, self.root, self.registry)
            if not checked.valid:
                out.append((None, f"depends on {name}, which is {checked.status}"))
            elif checked.mtime_ns > self.mtime:
                out.append((WARN, f"stale: {name} changed after this artifact was written"))
        return out


def parse_size(value: Any) -> int | None:
    """``100KB`` -> 102400 (KB = KiB); a plain number is bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])


def dotted(document: Any, path: str) -> Any:
    """The value at ``a.b.c`` in nested mappings, or a marker when absent."""
    current = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _pointer(parts: Any) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "(document)"
