"""Load and validate ``codex.orchestrator.json`` into a :class:`~codex_orchestrator.model.Config`.

Every error is one line naming the file and the JSON key path; unknown keys are
collected as warnings. Stage sets are expanded here; subpipelines stay references
whose targets (and the absence of cycles) are checked here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import orjson

from codex_orchestrator.artifacts.registry import load_gates, load_registry
from codex_orchestrator.config_artifacts import read_artifact_globs, read_artifact_settings
from codex_orchestrator.config_executor import read_executor, read_resources
from codex_orchestrator.config_fields import FieldReader, json_type, key_path
from codex_orchestrator.config_graph import (
    GRAPH_STAGE_KEYS,
    GraphStage,
    check_graph,
    graph_fields,
    graph_keys_of,
    read_graph_keys,
    read_jobs,
    with_registry,
)
from codex_orchestrator.config_store import read_pipeline_store, read_secrets, read_store
from codex_orchestrator.diagnostics import DIAGNOSTICS_ID, diagnostics_pipeline
from codex_orchestrator.errors import ConfigError
from codex_orchestrator.model import CommandStage, Config, Pipeline, Stage, SubpipelineStage
from codex_orchestrator.model.registry import Gate, Registry

DEFAULT_CONFIG_NAME = "codex.orchestrator.json"
CONFIG_ENV = "CODEX_ORCHESTRATOR_REPO_CONFIG_PATH"

_TOP_KEYS = frozenset(
    {
        "$schema",
        "defaultPipeline",
        "stageSets",
        "pipelines",
        "store",
        "secrets",
        "artifacts",
        "registry",
        "gates",
        "reports",
        "executor",
    }
)
_PIPELINE_KEYS = frozenset(
    {"id", "title", "description", "guardrailsRequired", "stages", "jobs", "store"}
)
_STAGE_KEYS: Mapping[str, frozenset[str]] = {
    "command": frozenset(
        {
            "kind",
            "id",
            "title",
            "command",
            "cwd",
            "env",
            "allowFailure",
            "summaryHint",
            "timeoutMs",
            "artifacts",
            *GRAPH_STAGE_KEYS,
            "resources",
        }
    ),
    "subpipeline": frozenset({"kind", "id", "title", "pipeline", "optional", "needs", "if"}),
    "stage-set": frozenset({"kind", "ref"}),
}


def resolve_config_path(explicit: Path | None, root: Path) -> Path | None:
    """``--config`` wins, then ``$CODEX_ORCHESTRATOR_REPO_CONFIG_PATH``, then the repo default."""
    env_value = os.environ.get(CONFIG_ENV, "")
    # An empty variable counts as unset, the usual shell idiom for "switch it off".
    for candidate, source in ((explicit, "--config"), (env_value or None, f"${CONFIG_ENV}")):
        if candidate is None:
            continue
        path = Path(candidate)
        if not path.exists():
            raise ConfigError(f"{path}: config file not found (from {source})")
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory, not a config file (from {source})")
        return path
    default = root / DEFAULT_CONFIG_NAME
    return default if default.is_file() else None


def load_run_config(
    root: Path, explicit: Path | None, warn: Callable[[str], None]
) -> tuple[Config, Path | None]:
    """The config a run uses and where it came from; its warnings go to ``warn``."""
    config_path = resolve_config_path(explicit, root)
    config = load_config(config_path, root)
    for warning in config.warnings:
        warn(warning)
    return config, config_path


def load_config(path: Path | None, root: Path) -> Config:
    """Read, validate and resolve a config; ``None`` means only the embedded diagnostics."""
    if path is None:
        diagnostics = diagnostics_pipeline(root)
        return Config(
            path=None,
            default_pipeline=None,
            pipelines=MappingProxyType({DIAGNOSTICS_ID: diagnostics}),
        )
    display = _display_name(path, root)
    document = _read_document(path, display)
    return _Loader(display, root).load(document)


def select_pipeline(config: Config, name: str | None) -> Pipeline:
    """The named pipeline; without a name the config's default, else ``diagnostics``."""
    wanted = name or config.default_pipeline or DIAGNOSTICS_ID
    pipeline = config.pipelines.get(wanted)
    if pipeline is not None:
        return pipeline
    known = ", ".join(config.pipelines)
    where = config.path if config.path is not None else f"no {DEFAULT_CONFIG_NAME}"
    raise ConfigError(f'unknown pipeline "{wanted}" ({where}; known: {known})')


def _display_name(path: Path, root: Path) -> str:
    # Shown as the user gave it; the default location reads relative to the repo root.
    if path == root / DEFAULT_CONFIG_NAME:
        return DEFAULT_CONFIG_NAME
    return str(path)


def _read_document(path: Path, display: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read file: {exc.strerror or exc}") from exc
    try:
        # Decoding first gives a truthful offset; editors on Windows like to add a BOM.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display}: not valid UTF-8 at byte offset {exc.start}") from exc
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(
            f"{display}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc


_PLAIN_KEYS = frozenset({"kind", "id", "title", "command"})


def _plain_command(raw: Any) -> CommandStage | None:
    """The most common stage, ``{kind: command, id, title, command}`` with non-empty
    strings and nothing else, read at once: a config of thousands of stages loads in a
    few milliseconds. Anything else (or anything wrong) takes the full reading."""
    if type(raw) is not dict or raw.get("kind") != "command" or not raw.keys() <= _PLAIN_KEYS:
        return None
    values = [raw.get("id"), raw.get("title"), raw.get("command")]
    texts = [value for value in values if type(value) is str and value.strip()]
    if len(texts) != len(values):
        return None
    stage_id, title, command = texts
    return CommandStage(id=stage_id, title=title, command=command)


# Named tuples, not dataclasses: a config of thousands of stages makes three of these
# a stage, and a tuple is built several times faster than a frozen dataclass.
class _Ref(NamedTuple):
    """A ``stage-set`` entry: ``where`` is the key path of its ``ref``."""

    name: str
    where: str


class _Entry(NamedTuple):
    """A parsed stage with the key path of its object and of the ref that included it."""

    stage: Stage
    where: str
    via: str | None = None


class _Loader(FieldReader):
    """Validates one document; raises on the first error, collects warnings on the way."""

    def __init__(self, display: str, root: Path) -> None:
        super().__init__(display)
        self.root = root
        self.raw_sets: dict[str, list[_Ref | _Entry]] = {}
        self.registry: Registry | None = None
        self.gates: tuple[Gate, ...] = ()
        self.expanded_sets: dict[str, list[_Entry]] = {}

    def load(self, document: Any) -> Config:
        if not isinstance(document, dict):
            raise ConfigError(
                f"{self.display}: top level must be a JSON object, got {json_type(document)}"
            )
        self.warn_unknown(document, "", _TOP_KEYS)
        store = read_store(self, document)
        secrets = read_secrets(self, document)
        self.registry = load_registry(self, document.get("registry"), self.root)
        self.gates = load_gates(self, document.get("gates"), self.registry)
        default = self.text(document, "", "defaultPipeline", required=False)
        reports = self.report_formats(document, "reports")
        sets = self.typed(document, "", "stageSets", dict, required=False) or {}
        for name, entries in sets.items():
            self.raw_sets[name] = self.stage_list(
                entries, key_path("stageSets", name), allow_empty=True
            )
        for name in self.raw_sets:
            self.expand_set(name, ())
        raw_pipelines = self.typed(document, "", "pipelines", list, required=True)
        pipelines: dict[str, Pipeline] = {}
        subpipelines: list[tuple[str, SubpipelineStage, str]] = []
        for index, raw in enumerate(raw_pipelines):
            pipeline, entries = self.pipeline(raw, f"pipelines[{index}]", pipelines)
            pipelines[pipeline.id] = pipeline
            subpipelines += [
                (pipeline.id, e.stage, e.where)
                for e in entries
                if isinstance(e.stage, SubpipelineStage)
            ]
        if DIAGNOSTICS_ID not in pipelines:
            pipelines[DIAGNOSTICS_ID] = diagnostics_pipeline(self.root)
        if default is not None and default not in pipelines:
            raise self.error("defaultPipeline", _unknown_pipeline(default, pipelines))
        self.check_subpipelines(pipelines, subpipelines)
        executor = read_executor(self, document)
        return Config(
            path=self.display,
            default_pipeline=default,
            pipelines=MappingProxyType(pipelines),
            warnings=tuple(self.warnings),
            store=store,
            secrets=secrets,
            artifacts=read_artifact_settings(self, document, self.root),
            registry=self.registry,
            gates=self.gates,
            reports=reports,
            executor=executor,
        )

    def pipeline(
        self, raw: Any, where: str, seen: Mapping[str, Pipeline]
    ) -> tuple[Pipeline, list[_Entry]]:
        obj = self.object(raw, where)
        self.warn_unknown(obj, where, _PIPELINE_KEYS)
        pipeline_id = self.required_text(obj, where, "id")
        if pipeline_id in seen:
            first = list(seen).index(pipeline_id)
            message = f'duplicate pipeline id "{pipeline_id}" (first at pipelines[{first}].id)'
            raise self.error(key_path(where, "id"), message)
        title = self.required_text(obj, where, "title")
        description = self.text(obj, where, "description", required=False)
        guardrails_required = self.flag(obj, where, "guardrailsRequired")
        stages_where = key_path(where, "stages")
        entries = [
            _Entry(with_registry(e.stage, self.registry), e.where, e.via)
            for e in self.expand(self.stage_list(obj.get("stages"), stages_where), None)
        ]
        if not entries:
            raise self.error(stages_where, "a pipeline needs at least one stage")
        self.check_unique_ids(entries, pipeline_id)
        self.check_graph(pipeline_id, entries)
        pipeline = Pipeline(
            id=pipeline_id,
            title=title,
            description=description,
            guardrails_required=guardrails_required,
            stages=tuple(entry.stage for entry in entries),
            jobs=read_jobs(self, obj, where),
            store=read_pipeline_store(self, obj, where),
        )
        return pipeline, entries

    def stage_list(self, raw: Any, where: str, *, allow_empty: bool = False) -> list[_Ref | _Entry]:
        if raw is None:
            raise self.error(where, "required array is missing")
        if not isinstance(raw, list):
            raise self.error(where, f"must be an array, got {json_type(raw)}")
        if not raw and not allow_empty:
            raise self.error(where, "a pipeline needs at least one stage")
        return [self.stage(item, f"{where}[{index}]") for index, item in enumerate(raw)]

    def stage(self, raw: Any, where: str) -> _Ref | _Entry:
        plain = _plain_command(raw)
        if plain is not None:
            return _Entry(plain, where)
        obj = self.object(raw, where)
        kind = self.required_text(obj, where, "kind")
        known = _STAGE_KEYS.get(kind)
        if known is None:
            message = f'unknown stage kind "{kind}" (expected command, subpipeline or stage-set)'
            raise self.error(key_path(where, "kind"), message)
        self.warn_unknown(obj, where, known)
        if kind == "stage-set":
            return _Ref(self.required_text(obj, where, "ref"), key_path(where, "ref"))
        stage_id = self.required_text(obj, where, "id")
        title = self.required_text(obj, where, "title")
        if kind == "subpipeline":
            target = self.required_text(obj, where, "pipeline")
            optional = self.flag(obj, where, "optional") or False
            keys = read_graph_keys(self, obj, where)
            stage: Stage = SubpipelineStage(
                id=stage_id,
                title=title,
                pipeline=target,
                optional=optional,
                needs=keys.needs,
                condition=keys.condition,
            )
            return _Entry(stage, where)
        stage = CommandStage(
            id=stage_id,
            title=title,
            command=self.required_text(obj, where, "command"),
            cwd=self.text(obj, where, "cwd", required=False),
            env=self.env(obj, where),
            allow_failure=self.flag(obj, where, "allowFailure") or False,
            summary_hint=self.text(obj, where, "summaryHint", required=False, allow_empty=True),
            timeout_ms=self.timeout(obj, where),
            artifacts=read_artifact_globs(self, obj, where),
            **graph_fields(read_graph_keys(self, obj, where)),
            resources=read_resources(self, obj, where),
        )
        return _Entry(stage, where)

    def expand_set(self, name: str, stack: tuple[str, ...]) -> list[_Entry]:
        if name not in self.expanded_sets:
            self.expanded_sets[name] = self.expand(self.raw_sets[name], None, (*stack, name))
        return self.expanded_sets[name]

    def expand(
        self, items: list[_Ref | _Entry], via: str | None, stack: tuple[str, ...] = ()
    ) -> list[_Entry]:
        expanded: list[_Entry] = []
        for item in items:
            if isinstance(item, _Entry):
                expanded.append(_Entry(item.stage, item.where, via))
                continue
            if item.name not in self.raw_sets:
                raise self.error(item.where, f'unknown stage set "{item.name}" ({self._known()})')
            if item.name in stack:
                cycle = " -> ".join((*stack[stack.index(item.name) :], item.name))
                raise self.error(item.where, f"stage set cycle: {cycle}")
            outer = via or item.where
            expanded += [_Entry(e.stage, e.where, outer) for e in self.expand_set(item.name, stack)]
        return expanded

    def _known(self) -> str:
        if not self.raw_sets:
            return "no stageSets are defined"
        return "known: " + ", ".join(self.raw_sets)

    def check_graph(self, pipeline_id: str, entries: list[_Entry]) -> None:
        stages = [
            GraphStage(
                e.stage.id,
                f"{e.where} (included by {e.via})" if e.via else e.where,
                graph_keys_of(e.stage),
            )
            for e in entries
        ]
        producers = {name: s.id for s in stages for name in s.keys.produces}
        registry = self.registry

        def provided(name: str) -> bool:
            spec = registry.find(name) if registry else None
            return spec is not None and (self.root / spec.path).exists()

        check_graph(
            self,
            pipeline_id,
            stages,
            producers=producers,
            provided=provided,
            gates={g.id: g.artifact for g in self.gates},
        )

    def check_unique_ids(self, entries: list[_Entry], pipeline_id: str) -> None:
        first_seen: dict[str, str] = {}
        for entry in entries:
            where = key_path(entry.where, "id")
            # A stage set's key path alone is ambiguous when two refs include it.
            shown = f"{where} (included by {entry.via})" if entry.via else where
            first = first_seen.get(entry.stage.id)
            if first is not None:
                message = f'duplicate stage id "{entry.stage.id}" in pipeline "{pipeline_id}"'
                raise self.error(shown, f"{message}; first at {first}")
            first_seen[entry.stage.id] = shown

    def check_subpipelines(
        self,
        pipelines: Mapping[str, Pipeline],
        subpipelines: list[tuple[str, SubpipelineStage, str]],
    ) -> None:
        edges: dict[str, list[tuple[str, str]]] = {}
        for owner, stage, stage_where in subpipelines:
            where = key_path(stage_where, "pipeline")
            if stage.pipeline not in pipelines:
                raise self.error(where, _unknown_pipeline(stage.pipeline, pipelines))
            edges.setdefault(owner, []).append((stage.pipeline, where))
        done: set[str] = set()

        def visit(pipeline_id: str, path: tuple[str, ...]) -> None:
            for target, where in edges.get(pipeline_id, []):
                if target in path:
                    cycle = " -> ".join((*path[path.index(target) :], target))
                    raise self.error(where, f"subpipeline cycle: {cycle}")
                if target not in done:
                    visit(target, (*path, target))
            done.add(pipeline_id)

        for pipeline_id in pipelines:
            visit(pipeline_id, (pipeline_id,))


def _unknown_pipeline(name: str, pipelines: Mapping[str, Pipeline]) -> str:
    return f'unknown pipeline "{name}" (known: {", ".join(pipelines)})'
