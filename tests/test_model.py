"""Domain records: manifest to_dict/from_dict round trips, tolerant reading, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from helpers import ISO_RE, manifest_errors
from hypothesis import given
from hypothesis import strategies as st

from codex_orchestrator.model import (
    ChildRun,
    CommandRecord,
    CommandStage,
    CommandStatus,
    Pipeline,
    Resources,
    ResumeEvent,
    RunManifest,
    RunStatus,
    StageKind,
    SubpipelineStage,
    format_iso,
    parse_iso,
)

# Non-empty text: ids, titles and timestamps are never empty in a manifest we write.
names = st.text(min_size=1, max_size=20)
optional_text = st.none() | st.text(max_size=30)
# CPU seconds are persisted rounded to milliseconds; generate values that survive that.
cpu_seconds = st.integers(min_value=0, max_value=10**9).map(lambda n: n / 1000)
resources = st.none() | st.builds(
    Resources, cpu_seconds=cpu_seconds, peak_rss_bytes=st.none() | st.integers(1, 2**48)
)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
# Unknown keys of older manifests; prefixed so they never collide with known fields.
extra_keys = st.text(min_size=1, max_size=8).map(lambda key: f"x_{key}")
extras = st.dictionaries(extra_keys, json_scalars, max_size=3)
DIGEST = "sha256:" + "0" * 64


@st.composite
def command_records(draw: st.DrawFn, index: int, with_extra: bool = True) -> CommandRecord:
    """A command record as a run may hold it at any moment."""
    return CommandRecord(
        index=index,
        id=draw(names),
        title=draw(names),
        command=draw(optional_text),
        kind=draw(st.sampled_from(StageKind)),
        status=draw(st.sampled_from(CommandStatus)),
        started_at=draw(optional_text),
        completed_at=draw(optional_text),
        exit_code=draw(st.none() | st.integers(-255, 255)),
        summary=draw(optional_text),
        log_path=draw(optional_text),
        error_file=draw(optional_text),
        sub_run_id=draw(optional_text),
        signal=draw(st.none() | st.sampled_from(["SIGTERM", "SIGKILL"])),
        duration_ms=draw(st.none() | st.integers(0, 10**9)),
        resources=draw(resources),
        extra=draw(extras) if with_extra else {},
    )


@st.composite
def manifests(draw: st.DrawFn, with_extra: bool = True) -> RunManifest:
    """A manifest with every field drawn (within what the contract allows)."""
    count = draw(st.integers(0, 4))
    return RunManifest(
        version=draw(st.integers(1, 5)),
        task_id=draw(names),
        task_slug=draw(optional_text),
        run_id=draw(names),
        parent_run_id=draw(optional_text),
        pipeline_id=draw(names),
        pipeline_title=draw(names),
        approval_policy=draw(optional_text),
        status=draw(st.sampled_from(RunStatus)),
        status_detail=draw(optional_text),
        started_at=draw(names),
        completed_at=draw(optional_text),
        updated_at=draw(names),
        heartbeat_at=draw(optional_text),
        heartbeat_interval_seconds=draw(st.integers(1, 600)),
        heartbeat_stale_after_seconds=draw(st.integers(1, 600)),
        artifact_root=draw(names),
        compat_path=draw(names),
        log_path=draw(names),
        summary=draw(optional_text),
        metrics_recorded=draw(st.booleans()),
        resume_token=draw(names),
        resume_events=tuple(
            draw(
                st.lists(
                    st.builds(
                        ResumeEvent,
                        timestamp=names,
                        actor=names,
                        reason=names,
                        outcome=st.sampled_from(["accepted", "blocked"]),
                        detail=optional_text,
                    ),
                    max_size=3,
                )
            )
        ),
        approvals=tuple(
            draw(
                st.lists(
                    st.fixed_dictionaries(
                        {"actor": names, "timestamp": names, "reason": optional_text}
                    ),
                    max_size=2,
                )
            )
        ),
        commands=tuple(draw(command_records(index, with_extra)) for index in range(1, count + 1)),
        child_runs=tuple(
            draw(
                st.lists(
                    st.builds(
                        ChildRun,
                        run_id=names,
                        pipeline_id=names,
                        status=st.sampled_from(RunStatus),
                        manifest=names,
                    ),
                    max_size=2,
                )
            )
        ),
        run_summary_path=draw(optional_text),
        guardrails_required=draw(st.none() | st.booleans()),
        runner_version=draw(optional_text),
        runner_pid=draw(st.none() | st.integers(1, 2**22)),
        runner_create_time=draw(st.none() | st.floats(0, 2e9, allow_nan=False)),
        host=draw(optional_text),
        config_path=draw(optional_text),
        resources=draw(resources),
        extra=draw(extras) if with_extra else {},
    )


@given(manifests())
def test_manifest_round_trips_through_json(manifest: RunManifest) -> None:
    """from_dict(JSON(to_dict(m))) gives back m, unknown keys included."""
    encoded = orjson.dumps(manifest.to_dict())
    assert RunManifest.from_dict(orjson.loads(encoded)) == manifest


@given(manifests())
def test_to_dict_is_a_fixed_point(manifest: RunManifest) -> None:
    """Writing what was read writes the same document."""
    document = manifest.to_dict()
    assert RunManifest.from_dict(document).to_dict() == document


@given(manifests(with_extra=False))
def test_everything_the_model_writes_fits_the_schema(manifest: RunManifest) -> None:
    """The shipped schema accepts every manifest the model can produce."""
    assert manifest_errors(manifest.to_dict()) == []


@given(st.integers(1, 20).flatmap(command_records))
def test_command_record_round_trips(record: CommandRecord) -> None:
    """A command record survives to_dict/from_dict, unknown keys included."""
    assert CommandRecord.from_dict(orjson.loads(orjson.dumps(record.to_dict()))) == record


def test_shared_fields_come_first_in_the_written_order() -> None:
    """The TypeScript tool's fields lead, in its order; ours follow; unknown keys last."""
    manifest = RunManifest(
        task_id="t",
        run_id="r",
        pipeline_id="p",
        pipeline_title="P",
        started_at="s",
        updated_at="u",
        artifact_root="a",
        compat_path="c",
        log_path="l",
        resume_token=DIGEST,
        extra={"legacy_field": 1},
    )
    keys = list(manifest.to_dict())
    assert keys[:3] == ["version", "task_id", "task_slug"]
    assert keys.index("instructions_sources") < keys.index("runner_pid")
    assert keys[-1] == "legacy_field"


def test_from_dict_tolerates_an_empty_or_odd_document() -> None:
    """Missing or wrongly typed fields become safe defaults instead of errors."""
    manifest = RunManifest.from_dict(
        {
            "status": "exploded",
            "commands": [{"status": "weird", "kind": 3}, "not a record", {"index": "x"}],
            "resume_events": "nope",
            "heartbeat_interval_seconds": "10",
            "runner_pid": True,
        }
    )
    assert manifest.run_id == "unknown"
    assert manifest.status is RunStatus.QUEUED
    assert manifest.heartbeat_interval_seconds == 10
    assert manifest.runner_pid is None
    assert manifest.resume_events == ()
    assert [(c.index, c.id, c.status, c.kind) for c in manifest.commands] == [
        (1, "command-1", CommandStatus.PENDING, StageKind.COMMAND),
        # Numbered by position in the list, the entry that is not a record included.
        (3, "command-3", CommandStatus.PENDING, StageKind.COMMAND),
    ]


def test_unknown_keys_of_an_older_manifest_are_written_back() -> None:
    """A TypeScript manifest's extra fields survive a read and a write unchanged."""
    older: dict[str, Any] = {
        "run_id": "r",
        "issue_provider": "linear",
        "handles": [{"handle_id": "h"}],
        "commands": [{"index": 1, "id": "a", "title": "A", "command": "x", "exit_code": 0}],
    }
    older["commands"][0]["ts_only"] = {"nested": True}
    written = RunManifest.from_dict(older).to_dict()
    assert written["issue_provider"] == "linear"
    assert written["handles"] == [{"handle_id": "h"}]
    assert written["commands"][0]["ts_only"] == {"nested": True}


def test_terminal_statuses() -> None:
    """Succeeded, failed and cancelled are terminal; queued and in progress are not."""
    assert {status for status in RunStatus if status.terminal} == {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    }


def test_resources_combine_adds_cpu_and_keeps_peak_memory() -> None:
    """A run's totals: CPU adds up, peak memory is the largest of its commands."""
    total = Resources(cpu_seconds=1.5, peak_rss_bytes=100).combine(
        Resources(cpu_seconds=0.25, peak_rss_bytes=50)
    )
    assert total == Resources(cpu_seconds=1.75, peak_rss_bytes=100)
    assert total.combine(None) == total


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    )
)
def test_timestamps_are_utc_with_milliseconds(moment: datetime) -> None:
    """format_iso writes ``YYYY-MM-DDTHH:MM:SS.mmmZ``; parse_iso reads it back to the ms."""
    text = format_iso(moment)
    assert ISO_RE.match(text), text
    parsed = parse_iso(text)
    assert parsed is not None
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_format_iso_converts_other_zones_to_utc() -> None:
    """A local time is written as the same instant in UTC."""
    moment = datetime(2025, 10, 31, 23, 56, 34, 431999, tzinfo=timezone(timedelta(hours=1)))
    assert format_iso(moment) == "2025-10-31T22:56:34.431Z"


def test_parse_iso_rejects_garbage() -> None:
    """Absent or malformed timestamps read as None."""
    assert parse_iso(None) is None
    assert parse_iso("") is None
    assert parse_iso("yesterday") is None


def test_guardrail_stages_and_pipeline_requirement() -> None:
    """A stage naming spec-guard is a guardrail; explicit guardrailsRequired wins."""
    guard = CommandStage(id="check", title="Check", command="bash scripts/spec-guard.sh")
    plain = CommandStage(id="build", title="Build", command="make")
    sub = SubpipelineStage(id="spec-guard-suite", title="Suite", pipeline="x")
    assert guard.is_guardrail
    assert sub.is_guardrail
    assert not plain.is_guardrail
    assert Pipeline(id="p", title="P", stages=(plain, guard)).requires_guardrails
    assert not Pipeline(id="p", title="P", stages=(plain,)).requires_guardrails
    assert not Pipeline(
        id="p", title="P", stages=(guard,), guardrails_required=False
    ).requires_guardrails
    assert Pipeline(
        id="p", title="P", stages=(plain,), guardrails_required=True
    ).requires_guardrails


def test_guardrail_detection_ignores_case() -> None:
    """A stage titled "Spec-Guard" is a guardrail, for the pipeline as for the summary."""
    stage = CommandStage(id="docs", title="Run Spec-Guard", command="./check")
    assert stage.is_guardrail
    assert Pipeline(id="p", title="p", stages=(stage,)).requires_guardrails
    assert not CommandStage(id="lint", title="Lint", command="ruff check .").is_guardrail


def test_format_iso_writes_utc_milliseconds_from_any_zone() -> None:
    """UTC, another zone and a naive (local) time all come out as UTC with ms and Z."""
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert format_iso(moment) == "2026-01-02T03:04:05.678Z"
    assert format_iso(moment.astimezone(timezone(timedelta(hours=-5)))) == format_iso(moment)
    naive_local = moment.astimezone().replace(tzinfo=None)
    assert format_iso(naive_local) == "2026-01-02T03:04:05.678Z"
    assert format_iso(moment.replace(microsecond=0)) == "2026-01-02T03:04:05.000Z"
