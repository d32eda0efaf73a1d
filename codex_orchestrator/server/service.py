"""What the HTTP API and the MCP tools answer, read through the same views as the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import orjson

from codex_orchestrator.errors import RunNotFound
from codex_orchestrator.server.models import (
    Activity,
    ChildRun,
    OutputLine,
    OutputTail,
    Resources,
    RunDetail,
    RunSummary,
    stage_from,
)
from codex_orchestrator.server.polling import StatusCache, files_key
from codex_orchestrator.store.catalog import RunRef, locate_run
from codex_orchestrator.store.layout import RunsLayout, command_file_stem, validate_task_id
from codex_orchestrator.store.tail import last_lines, within_runs
from codex_orchestrator.views.runs import RunsRequest, list_run_rows
from codex_orchestrator.views.status import RunStatusView, read_status

MAX_TAIL_LINES = 1000


@dataclass(frozen=True, slots=True)
class RunsService:
    """The runs of one repository, as the server shows them."""

    root: Path
    layout: RunsLayout
    status_cache: StatusCache = field(default_factory=StatusCache, compare=False)

    @classmethod
    def for_root(cls, root: Path) -> RunsService:
        """The service over the ``.runs`` tree of ``root``."""
        return cls(root=root, layout=RunsLayout.for_root(root))

    def runs(self, task: str | None = None) -> list[RunSummary]:
        """Every run (of one task, when given), newest first."""
        if task is not None:
            validate_task_id(task)
        request = RunsRequest(root=self.root, task=task, all_tasks=task is None)
        return [
            RunSummary.model_validate(row)
            for row in list_run_rows(request)
            if within_runs(self.layout, self.layout.resolve(row["manifest"])) is not None
        ]

    def locate(self, run_id: str) -> RunRef:
        """The run with this id in any task; never one whose files lie outside ``.runs``."""
        ref = locate_run(self.layout, run_id, None)
        if within_runs(self.layout, ref.manifest_path) is None:
            raise RunNotFound(f"run {run_id} not found")
        return ref

    def view(self, run_id: str) -> RunStatusView:
        """The run's manifest and its runner's activity (what ``status`` shows)."""
        return read_status(self.locate(run_id), self.layout)

    def status(self, run_id: str) -> RunDetail:
        """``GET /runs/{run_id}``."""
        return detail_of(self.view(run_id))

    def status_json(self, run_id: str) -> bytes:
        """``GET /runs/{run_id}`` as JSON bytes, reused while manifest and journal stand still."""
        cached = self.status_cache.get(run_id)
        if cached is not None:
            return cached
        ref = self.locate(run_id)
        files = (ref.manifest_path, ref.manifest_path.with_name("runner.ndjson"))
        key = files_key(files)
        body = detail_of(read_status(ref, self.layout)).model_dump_json().encode()
        self.status_cache.put(run_id, files, key, body)
        return body

    def report_html(self, run_id: str) -> bytes:
        """The run's HTML report (as ``report --format html``), rendered now."""
        from codex_orchestrator.report.html import render_html
        from codex_orchestrator.report.model import load_report

        return render_html(load_report(self.layout, self.locate(run_id)))

    def events_file(self, ref: RunRef) -> Path | None:
        """The run's ``runner.ndjson`` when it lies inside ``.runs``."""
        return within_runs(self.layout, ref.manifest_path.with_name("runner.ndjson"))

    def output(self, run_id: str, index: int, lines: int) -> OutputTail:
        """The last ``lines`` output lines of stage ``index`` (1-based)."""
        view = self.view(run_id)
        try:
            record = view.manifest.command(index)
        except KeyError:
            raise RunNotFound(f"run {run_id} has no stage {index}") from None
        wanted = max(0, min(lines, MAX_TAIL_LINES))
        log = (
            view.ref.manifest_path.parent
            / "commands"
            / (command_file_stem(index, record.id) + ".ndjson")
        )
        safe = within_runs(self.layout, log)
        raw = last_lines(safe, wanted * 4 + 16) if safe is not None else []
        return OutputTail(
            run_id=view.manifest.run_id,
            index=index,
            stage_id=record.id,
            status=str(record.status),
            lines=_output_lines(raw)[-wanted:] if wanted else [],
        )


def detail_of(view: RunStatusView) -> RunDetail:
    """A status view as the API's typed document; the resume token field is left out."""
    manifest = view.manifest
    data = manifest.to_dict()
    return RunDetail(
        run_id=manifest.run_id,
        task_id=view.ref.task_id,
        pipeline_id=manifest.pipeline_id,
        pipeline_title=manifest.pipeline_title,
        parent_run_id=manifest.parent_run_id,
        status=str(manifest.status),
        status_detail=manifest.status_detail,
        started_at=manifest.started_at,
        completed_at=manifest.completed_at,
        updated_at=manifest.updated_at,
        summary=manifest.summary,
        manifest_path=view.manifest_path,
        runner_version=manifest.runner_version,
        host=manifest.host,
        resources=Resources(**manifest.resources.to_dict()) if manifest.resources else None,
        commands=[stage_from(record) for record in data["commands"]],
        child_runs=[ChildRun(**child) for child in data["child_runs"]],
        activity=Activity(**view.activity),
        report_url=report_url(view.ref.run_id),
    )


def report_url(run_id: str) -> str:
    """Where this server serves the run's HTML report."""
    return f"/runs/{quote(run_id, safe='')}/report.html"


def _output_lines(raw: list[bytes]) -> list[OutputLine]:
    lines = []
    for line in raw:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind not in ("command:stdout", "command:stderr"):
            continue
        data, seq = event.get("data"), event.get("seq")
        lines.append(
            OutputLine(
                stream=str(kind).removeprefix("command:"),
                seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
                data=data if isinstance(data, str) else "",
                partial=event.get("partial") is True,
            )
        )
    return lines
