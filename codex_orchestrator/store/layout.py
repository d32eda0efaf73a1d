"""Every path under ``.runs``: the one module that builds them.

Identifiers are validated here too, because a task or run id becomes a path.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from codex_orchestrator.errors import InvalidInput, RunsPathError
from codex_orchestrator.model import format_iso

DEFAULT_TASK_ID = "0101"
TASK_ENV_VARS = ("MCP_RUNNER_TASK_ID", "CODEX_ORCHESTRATOR_TASK_ID")
RUNS_DIR_ENV = "CODEX_ORCHESTRATOR_RUNS_DIR"
LEGACY_DIR_NAME = "local-mcp"
LEGACY_MANIFEST_NAME = "manifest.legacy.json"
LEGACY_COMPAT_NAME = "compat.json"
MIGRATION_LOCK_NAME = ".migrate.lock"
ARTIFACTS_DIR_ENV = "ARTIFACTS_DIR"
ARTIFACT_STORE_NAME = ".artifacts"  # under .runs (or the moved root): objects, index, locks
SLUG_MAX = 80
# The longest file name POSIX filesystems take; a longer id could never name a run.
NAME_MAX = 255

# The reports a run may carry beside its manifest (config ``reports``), by format.
REPORT_FILE_NAMES = {
    "html": "report.html",
    "junit": "report.junit.xml",
    "markdown": "report.md",
    "trace": "report.trace.json",
}

# C0 controls, DEL and the C1 controls (U+0085 NEL breaks lines as \n does).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_RUN_ID = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:-\d{3})?Z(?:-[0-9A-Za-z]+)?$")


def validate_task_id(task_id: str) -> str:
    """Return ``task_id`` if it is safe as one path segment, else raise InvalidInput."""
    return _validate_segment(task_id, "task id")


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is safe as one path segment, else raise InvalidInput."""
    return _validate_segment(run_id, "run id")


def _validate_segment(value: str, what: str) -> str:
    if not value:
        raise InvalidInput(f"invalid {what}: it is empty")
    if value in (".", ".."):
        raise InvalidInput(f"invalid {what} {value!r}: not a name")
    if "/" in value or "\\" in value or os.sep in value:
        raise InvalidInput(f"invalid {what} {value!r}: contains a path separator")
    if _CONTROL.search(value):
        raise InvalidInput(f"invalid {what} {value!r}: contains a control character")
    if value.startswith("."):
        raise InvalidInput(f"invalid {what} {value!r}: starts with a dot")
    if len(os.fsencode(value)) > NAME_MAX:
        raise InvalidInput(f"invalid {what} {value[:40]!r}...: longer than {NAME_MAX} bytes")
    return value


def resolve_task_id(explicit: str | None) -> str:
    """``--task``, else the task env vars, else the default; validated."""
    if explicit is not None:
        return validate_task_id(explicit)
    for name in TASK_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return validate_task_id(value)
    return DEFAULT_TASK_ID


def new_run_id(moment: datetime | None = None) -> str:
    """UTC start time with ``:`` and ``.`` replaced by ``-``, then 8 hex chars."""
    stamp = format_iso(moment or datetime.now(UTC)).replace(":", "-").replace(".", "-")
    return f"{stamp}-{secrets.token_hex(4)}"


def looks_like_run_id(name: str) -> bool:
    """Whether a directory name has the shape of a run id (ours or the older ones)."""
    return bool(_RUN_ID.match(name))


def slugify(text: str) -> str:
    """Lowercase, non-alphanumerics to ``-``, collapsed, trimmed, <= 80 chars, else ``command``."""
    slug = _NON_ALNUM.sub("-", text.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "command"


def command_file_stem(index: int, stage_id: str) -> str:
    """``NN-slug`` for a 1-based command index."""
    return f"{index:02d}-{slugify(stage_id)}"


@dataclass(frozen=True, slots=True)
class RunPaths:
    """The files of one run directory."""

    root: Path
    task_id: str
    run_id: str
    run_dir: Path

    @property
    def manifest(self) -> Path:
        """``manifest.json``."""
        return self.run_dir / "manifest.json"

    @property
    def runner_log(self) -> Path:
        """``runner.ndjson``: every event of the run."""
        return self.run_dir / "runner.ndjson"

    @property
    def commands_dir(self) -> Path:
        """``commands/``: one NDJSON file per command."""
        return self.run_dir / "commands"

    @property
    def errors_dir(self) -> Path:
        """``errors/``: one JSON file per failed command."""
        return self.run_dir / "errors"

    @property
    def heartbeat(self) -> Path:
        """``.heartbeat``."""
        return self.run_dir / ".heartbeat"

    @property
    def resume_token(self) -> Path:
        """``.resume-token`` (mode 0600)."""
        return self.run_dir / ".resume-token"

    @property
    def lock(self) -> Path:
        """The lock a runner holds while it owns the run."""
        return self.run_dir / ".run.lock"

    @property
    def lock_owner(self) -> Path:
        """Who holds ``.run.lock``: pid and create time of the process that took it last."""
        return self.run_dir / ".run.owner"

    @property
    def crash_log(self) -> Path:
        """Traceback of an unexpected internal error."""
        return self.run_dir / "crash.log"

    @property
    def executor_probe(self) -> Path:
        """A file every Dask worker must read back: proof they share the filesystem."""
        return self.run_dir / ".executor-probe"

    @property
    def legacy_manifest(self) -> Path:
        """``manifest.legacy.json``: a migrated run's original manifest, byte for byte."""
        return self.run_dir / LEGACY_MANIFEST_NAME

    def command_log(self, index: int, stage_id: str) -> Path:
        """``commands/NN-slug.ndjson``."""
        return self.commands_dir / f"{command_file_stem(index, stage_id)}.ndjson"

    def error_file(self, index: int, stage_id: str) -> Path:
        """``errors/NN-slug.json``."""
        return self.errors_dir / f"{command_file_stem(index, stage_id)}.json"

    def relative(self, path: Path) -> str:
        """``path`` relative to the repo root, as manifests record paths."""
        return relative_to_root(self.root, path)

    @property
    def artifacts_dir(self) -> Path:
        """``artifacts/``: the default root of the run's kept artifacts."""
        return self.run_dir / "artifacts"


@dataclass(frozen=True, slots=True)
class InstancePaths:
    """One stage instance under ``instances/``: ``<NN-slug>/`` (children nest below)."""

    instance_id: str  # "01-build", "02-sub/01-lint" for a child run's stage
    dir: Path

    @property
    def workspace(self) -> Path:
        """``workspace/``: the kept files (``CODEX_ORCHESTRATOR_WORKSPACE`` while live)."""
        return self.dir / "workspace"

    @property
    def output_log(self) -> Path:
        """``output.log``: stdout and stderr bytes in arrival order."""
        return self.dir / "output.log"

    @property
    def metadata(self) -> Path:
        """``metadata.json`` of the instance."""
        return self.dir / "metadata.json"

    @property
    def file_index(self) -> Path:
        """``index.json`` of the instance: its kept files (the run's index joins them)."""
        return self.dir / "index.json"

    def child(self, stem: str) -> InstancePaths:
        """A child run's stage kept under this (subpipeline) instance."""
        return InstancePaths(f"{self.instance_id}/{stem}", self.dir / "instances" / stem)


@dataclass(frozen=True, slots=True)
class ArtifactPaths:
    """The kept artifacts of one run, at the manifest's ``artifacts_path``."""

    root: Path

    @property
    def metadata(self) -> Path:
        """``metadata.json`` of the run."""
        return self.root / "metadata.json"

    @property
    def summary(self) -> Path:
        """``summary.md``."""
        return self.root / "summary.md"

    @property
    def index(self) -> Path:
        """``index.json``: every kept file."""
        return self.root / "index.json"

    @property
    def instances_dir(self) -> Path:
        """``instances/``."""
        return self.root / "instances"

    @property
    def pack(self) -> Path:
        """``artifacts.tar.zst``: ``instances/`` packed by ``artifacts pack``."""
        return self.root / "artifacts.tar.zst"

    def instance(self, stem: str) -> InstancePaths:
        """``instances/<NN-slug>``."""
        return InstancePaths(stem, self.instances_dir / stem)

    @property
    def staging_dir(self) -> Path:
        """``.staging/``: instance skeletons made ahead of their stages (hidden, and
        empty once the run has ended)."""
        return self.root / ".staging"

    def instance_by_id(self, instance_id: str) -> InstancePaths:
        """The instance ``NN-slug`` or ``NN-slug/MM-slug`` (segments validated)."""
        stems = instance_id.split("/")
        for stem in stems:
            _validate_segment(stem, "instance id")
        paths = self.instance(stems[0])
        for stem in stems[1:]:
            paths = paths.child(stem)
        return paths


def heartbeat_beside(manifest_path: Path) -> Path:
    """The ``.heartbeat`` of the run whose manifest is at ``manifest_path`` (any layout)."""
    return manifest_path.with_name(".heartbeat")


def error_file_beside(manifest_path: Path, index: int, stage_id: str) -> Path:
    """``errors/NN-slug.json`` of the run whose manifest is at ``manifest_path``."""
    return manifest_path.with_name("errors") / f"{command_file_stem(index, stage_id)}.json"


def report_beside(manifest_path: Path, report_format: str) -> Path:
    """The report file of one format beside a run's manifest (``report.html``, ...)."""
    return manifest_path.with_name(REPORT_FILE_NAMES[report_format])


def relative_to_root(root: Path, path: Path) -> str:
    """A path relative to the repo root when it lies below it, else absolute."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.path.relpath(path, root) if path.is_absolute() else path.as_posix()


@dataclass(frozen=True, slots=True)
class RunsLayout:
    """The ``.runs`` tree of one repository."""

    root: Path
    runs_dir: Path

    @classmethod
    def for_root(cls, root: Path) -> RunsLayout:
        """The layout for a repo root; ``CODEX_ORCHESTRATOR_RUNS_DIR`` overrides ``.runs``."""
        root = root.resolve()
        override = os.environ.get(RUNS_DIR_ENV)
        runs_dir = Path(override).resolve() if override else root / ".runs"
        return cls(root=root, runs_dir=runs_dir)

    def task_dir(self, task_id: str) -> Path:
        """``.runs/<task>``."""
        return self.runs_dir / validate_task_id(task_id)

    def cli_dir(self, task_id: str) -> Path:
        """``.runs/<task>/cli``: canonical run directories."""
        return self.task_dir(task_id) / "cli"

    def mcp_dir(self, task_id: str) -> Path:
        """``.runs/<task>/mcp``: compatibility pointers (older canonical layout)."""
        return self.task_dir(task_id) / "mcp"

    def run(self, task_id: str, run_id: str) -> RunPaths:
        """The paths of one run."""
        run_dir = self.cli_dir(task_id) / validate_run_id(run_id)
        return RunPaths(root=self.root, task_id=task_id, run_id=run_id, run_dir=run_dir)

    def compat_pointer(self, task_id: str, run_id: str) -> Path:
        """``.runs/<task>/mcp/<run-id>``."""
        return self.mcp_dir(task_id) / validate_run_id(run_id)

    def compat_target(self, run_id: str) -> str:
        """The relative symlink target from the pointer to the run directory."""
        return f"../cli/{validate_run_id(run_id)}"

    def metrics_file(self, task_id: str) -> Path:
        """``.runs/<task>/metrics.json`` (JSON Lines)."""
        return self.task_dir(task_id) / "metrics.json"

    def metrics_summary(self, task_id: str) -> Path:
        """``.runs/<task>/metrics-summary.json``."""
        return self.task_dir(task_id) / "metrics-summary.json"

    def migrations_dir(self, task_id: str) -> Path:
        """``.runs/<task>/migrations``."""
        return self.task_dir(task_id) / "migrations"

    def artifacts_root(self, configured: str | None = None) -> Path | None:
        """Where ``ARTIFACTS_DIR`` (else config ``artifacts.dir``) moves kept artifacts."""
        moved = os.environ.get(ARTIFACTS_DIR_ENV) or configured
        return (self.root / moved).resolve() if moved else None

    def run_artifacts(self, task_id: str, run_id: str, moved_root: Path | None) -> ArtifactPaths:
        """A run's artifacts: ``<run dir>/artifacts``, or ``<moved root>/<task>/<run-id>``."""
        if moved_root is None:
            return ArtifactPaths(self.run(task_id, run_id).artifacts_dir)
        return ArtifactPaths(moved_root / validate_task_id(task_id) / validate_run_id(run_id))

    def foreign_run_artifacts(self, task_id: str, run_id: str) -> ArtifactPaths:
        """Artifacts of a run outside ``cli/`` (legacy layouts are never written)."""
        store = self.artifact_store()
        return ArtifactPaths(store / "runs" / validate_task_id(task_id) / validate_run_id(run_id))

    def artifact_store(self, moved_root: Path | None = None) -> Path:
        """``.runs/.artifacts`` (or ``<moved root>/.artifacts``): objects and locks."""
        return (moved_root or self.runs_dir) / ARTIFACT_STORE_NAME

    def objects_dir(self, moved_root: Path | None = None) -> Path:
        """The content-addressed object store: ``objects/<sha[:2]>/<sha>-<mode>``."""
        return self.artifact_store(moved_root) / "objects"

    def search_index(self) -> Path:
        """``.runs/.artifacts/search.sqlite``: the full-text index (SQLite FTS5)."""
        return self.artifact_store() / "search.sqlite"

    def prune_lock(self) -> Path:
        """Held while artifacts are pruned or packed."""
        return self.artifact_store() / "prune.lock"

    def legacy_dir(self) -> Path:
        """``.runs/local-mcp``: legacy, read-only."""
        return self.runs_dir / LEGACY_DIR_NAME

    def legacy_run_dir(self, run_id: str) -> Path:
        """``.runs/local-mcp/<run-id>``."""
        return self.legacy_dir() / validate_run_id(run_id)

    def legacy_compat_file(self, run_id: str) -> Path:
        """``.runs/local-mcp/<run-id>/compat.json``: where a legacy pointer points."""
        return self.legacy_run_dir(run_id) / LEGACY_COMPAT_NAME

    def migration_temp_dir(self, task_id: str, run_id: str) -> Path:
        """``cli/.<run-id>.migrating``: a run being copied in, renamed into place when whole."""
        return self.cli_dir(task_id) / f".{validate_run_id(run_id)}.migrating"

    def migration_trash_dir(self, task_id: str, run_id: str) -> Path:
        """``mcp/.<run-id>.migrated``: a moved run's old directory, removed last."""
        return self.mcp_dir(task_id) / f".{validate_run_id(run_id)}.migrated"

    def compat_pointer_staging(self, task_id: str, run_id: str) -> Path:
        """``mcp/.<run-id>.pointer``: a stub pointer being written, renamed into place whole."""
        return self.mcp_dir(task_id) / f".{validate_run_id(run_id)}.pointer"

    def migration_log(self, task_id: str, stamp: str, *, dry_run: bool) -> Path:
        """``migrations/<stamp>-dry-run.log`` or ``<stamp>-migration.log``."""
        kind = "dry-run" if dry_run else "migration"
        return self.migrations_dir(task_id) / f"{validate_run_id(stamp)}-{kind}.log"

    def migration_lock(self, task_id: str) -> Path:
        """The lock one migration of a task holds."""
        return self.migrations_dir(task_id) / MIGRATION_LOCK_NAME

    def from_recorded(self, recorded: str) -> Path:
        """A path as older manifests record it (``.runs/...`` from the root) made absolute.

        ``.runs/`` maps onto the runs directory even when it is moved elsewhere.
        """
        path = Path(recorded)
        if path.is_absolute():
            return path
        if path.parts[:1] == (".runs",):
            return self.runs_dir.joinpath(*path.parts[1:])
        return self.root / path

    def recorded_forms(self, path: Path) -> tuple[str, ...]:
        """How a manifest may have recorded ``path``: root-relative, ``.runs/...``, absolute."""
        forms = [self.relative(path), path.as_posix()]
        with contextlib.suppress(ValueError):
            forms.append(Path(".runs", path.relative_to(self.runs_dir)).as_posix())
        return tuple(dict.fromkeys(forms))

    def task_ids(self) -> list[str]:
        """Every task directory that holds runs, sorted (RunsPathError when unreadable)."""
        try:
            entries = list(self.runs_dir.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:  # a file where .runs should be; no permission
            raise RunsPathError(f"cannot read {self.runs_dir}: {exc.strerror or exc}") from exc
        return sorted(
            entry.name
            for entry in entries
            if entry.is_dir()
            and entry.name != LEGACY_DIR_NAME
            and not entry.name.startswith(".")
            and ((entry / "cli").is_dir() or (entry / "mcp").is_dir())
        )

    def relative(self, path: Path) -> str:
        """``path`` relative to the repo root."""
        return relative_to_root(self.root, path)

    def resolve(self, recorded: str) -> Path:
        """A path recorded in a manifest (relative to the root) as an absolute path."""
        path = Path(recorded)
        return path if path.is_absolute() else self.root / path
