"""Loading the artifact registry (``registry``) and the gates (``gates``) of a config.

The registry is the seed's YAML read as written (``artifact_types`` with producer,
consumers, format and path; optional ``artifact_validation`` keyed by artifact name
or file name), from a file or inline in the JSON config; by default
``.agent-artifacts/registry.yml`` when it exists. PyYAML (safe loader) is imported
only when a registry is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model.registry import (
    ALL_CONSUMERS,
    FORMATS,
    GATE_ACTIONS,
    ArtifactSpec,
    Gate,
    Registry,
)

DEFAULT_REGISTRY = ".agent-artifacts/registry.yml"
RULES = frozenset(
    {
        "format",
        "required_fields",
        "max_size",
        "schema",
        "minimum_coverage",
        "required_tables",
        "version",
        "depends_on",
        "severity",
    }
)
_TYPE_KEYS = frozenset({"producer", "consumers", "format", "path", "description"})
_GATE_KEYS = frozenset({"id", "artifact", "when", "action", "stages", "notify", "message"})


def load_registry(reader: FieldReader, raw: Any, root: Path) -> Registry | None:
    """The registry a config names (``raw``: its ``registry`` value), or the default file."""
    if raw is None:
        default = root / DEFAULT_REGISTRY
        if not default.is_file():
            return None
        return _from_file(reader, default, DEFAULT_REGISTRY, root)
    if isinstance(raw, str):
        if not raw.strip():
            raise reader.error("registry", "must be a non-empty path or an object")
        path = Path(raw) if Path(raw).is_absolute() else root / raw
        if not path.is_file():
            raise reader.error("registry", f"registry file not found: {raw}")
        return _from_file(reader, path, raw, root)
    if isinstance(raw, dict):
        return _parse(reader, raw, "registry", source=f"{reader.display}: registry", base=".")
    raise reader.error("registry", f"must be a path or an object, got {json_type(raw)}")


def _from_file(reader: FieldReader, path: Path, shown: str, root: Path) -> Registry:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the registry: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{shown}: invalid YAML{where}: {problem}") from exc
    file_reader = FieldReader(shown)
    try:
        base = path.parent.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        base = str(path.parent)
    registry = _parse(file_reader, document, "", source=shown, base=base)
    reader.warnings += file_reader.warnings
    return registry


def _parse(reader: FieldReader, document: Any, where: str, *, source: str, base: str) -> Registry:
    if not isinstance(document, dict):
        raise _error(reader, where, f"must be a mapping, got {json_type(document)}")
    types = document.get("artifact_types")
    types_where = key_path(where, "artifact_types")
    if not isinstance(types, dict):
        raise _error(reader, types_where, "required mapping of artifacts is missing")
    validation = document.get("artifact_validation") or {}
    validation_where = key_path(where, "artifact_validation")
    if not isinstance(validation, dict):
        raise _error(reader, validation_where, f"must be a mapping, got {json_type(validation)}")
    specs: dict[str, ArtifactSpec] = {}
    for name, raw in types.items():
        specs[str(name)] = _spec(reader, str(name), raw, key_path(types_where, str(name)))
    for key, rules in validation.items():
        here = key_path(validation_where, str(key))
        target = _match(specs, str(key))
        if target is None:
            reader.warnings.append(
                f"{reader.display}: {here}: no artifact of that name or file name (ignored)"
            )
            continue
        if not isinstance(rules, dict):
            raise _error(reader, here, f"must be a mapping of rules, got {json_type(rules)}")
        for rule in rules:
            if rule not in RULES:
                reader.warnings.append(
                    f"{reader.display}: {key_path(here, str(rule))}: unknown rule (ignored)"
                )
        spec = specs[target]
        fmt = rules.get("format", spec.format)
        if fmt != spec.format:
            raise _error(
                reader,
                key_path(here, "format"),
                f'"{fmt}" differs from the type\'s "{spec.format}"',
            )
        specs[target] = ArtifactSpec(
            name=spec.name,
            path=spec.path,
            format=spec.format,
            producer=spec.producer,
            consumers=spec.consumers,
            rules={**spec.rules, **rules},
        )
    return Registry(source=source, artifacts=specs, base=base)


def _match(specs: Mapping[str, ArtifactSpec], key: str) -> str | None:
    if key in specs:
        return key
    for name, spec in specs.items():
        if key in (spec.file_name, spec.path):
            return name
    return None


def _spec(reader: FieldReader, name: str, raw: Any, where: str) -> ArtifactSpec:
    if not isinstance(raw, dict):
        raise _error(reader, where, f"must be a mapping, got {json_type(raw)}")
    for key in raw:
        if key not in _TYPE_KEYS:
            reader.warnings.append(f"{reader.display}: {key_path(where, str(key))}: unknown key")
    path = raw.get("path")
    if not isinstance(path, str) or not path.strip():
        raise _error(reader, key_path(where, "path"), "required string is missing")
    if path.startswith("/") or ".." in Path(path).parts:
        raise _error(reader, key_path(where, "path"), "must stay inside the repository")
    fmt = raw.get("format")
    if fmt not in FORMATS:
        raise _error(
            reader, key_path(where, "format"), f"must be one of {', '.join(FORMATS)}, got {fmt!r}"
        )
    producer = raw.get("producer")
    if producer is not None and not isinstance(producer, str):
        raise _error(reader, key_path(where, "producer"), "must be a stage id")
    consumers = raw.get("consumers", [])
    if consumers == ALL_CONSUMERS:
        consumers = [ALL_CONSUMERS]
    if not isinstance(consumers, list) or not all(isinstance(c, str) for c in consumers):
        raise _error(reader, key_path(where, "consumers"), "must be a list of stage ids or ALL")
    return ArtifactSpec(
        name=name, path=path, format=str(fmt), producer=producer, consumers=tuple(consumers)
    )


def _error(reader: FieldReader, where: str, message: str) -> ConfigError:
    return ConfigError(
        f"{reader.display}: {where}: {message}" if where else f"{reader.display}: {message}"
    )


def load_gates(reader: FieldReader, raw: Any, registry: Registry | None) -> tuple[Gate, ...]:
    """The ``gates`` array: each names a registry artifact and a JMESPath ``when``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise reader.error("gates", f"must be an array, got {json_type(raw)}")
    gates: list[Gate] = []
    for position, item in enumerate(raw):
        where = f"gates[{position}]"
        obj = reader.object(item, where)
        reader.warn_unknown(obj, where, _GATE_KEYS)
        gate_id = reader.required_text(obj, where, "id")
        if any(g.id == gate_id for g in gates):
            raise reader.error(key_path(where, "id"), f'duplicate gate id "{gate_id}"')
        artifact = reader.required_text(obj, where, "artifact")
        spec = registry.find(artifact) if registry else None
        if spec is None:
            raise reader.error(
                key_path(where, "artifact"), f'"{artifact}" is not an artifact of the registry'
            )
        when = reader.required_text(obj, where, "when")
        _compile(reader, when, key_path(where, "when"))
        action = reader.text(obj, where, "action", required=False) or "block"
        if action not in GATE_ACTIONS:
            raise reader.error(
                key_path(where, "action"), f'must be block, halt or warn, got "{action}"'
            )
        gates.append(
            Gate(
                id=gate_id,
                artifact=spec.name,
                when=when,
                action=action,
                stages=_strings(reader, obj, where, "stages"),
                notify=_strings(reader, obj, where, "notify"),
                message=reader.text(obj, where, "message", required=False),
            )
        )
    return tuple(gates)


def _strings(reader: FieldReader, obj: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
    raw = obj.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise reader.error(key_path(where, key), "must be an array of non-empty strings")
    return tuple(raw)


def _compile(reader: FieldReader, expression: str, where: str) -> None:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        raise reader.error(where, f"not a valid JMESPath expression: {exc}") from exc
