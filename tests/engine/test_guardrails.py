"""Spec-guard guardrails: the summary lines a reviewer reads, and ``guardrails_present``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import command, pipeline, start_json, write_config

from codex_orchestrator.engine.guardrails import (
    count_guardrails,
    guardrail_lines,
    is_guardrail_record,
)
from codex_orchestrator.model import CommandRecord, CommandStatus

MISSING = (
    "Guardrail command missing; run "
    '"codex-orchestrator start diagnostics --format json --no-interactive" '
    "to capture reviewer diagnostics."
)
FAILED = (
    "Guardrail command failed; re-run "
    '"codex-orchestrator start diagnostics --format json --no-interactive" '
    "to gather failure artifacts."
)

CASES: dict[str, tuple[dict[str, Any], int, list[str], bool]] = {
    # name: (pipeline, exit code, summary lines, guardrails_present)
    "succeeded": (
        pipeline("p", command("build", "true"), command("spec-guard", "true")),
        0,
        ["Guardrails: spec-guard succeeded (1 passed)."],
        True,
    ),
    "two-succeeded": (
        pipeline(
            "p",
            command("guard-a", "true", title="spec-guard docs"),
            command("guard-b", "echo bash scripts/spec-guard.sh"),
        ),
        0,
        ["Guardrails: spec-guard succeeded (2 passed)."],
        True,
    ),
    "failed": (
        pipeline("p", command("spec-guard", "exit 1", title="Spec guard")),
        1,
        [
            "Stage 'Spec guard' failed with exit code 1.",
            FAILED,
            "Guardrails: spec-guard failed (1/1 failed).",
        ],
        False,
    ),
    "skipped": (
        pipeline("p", command("spec-guard", "exit 1", allowFailure=True)),
        0,
        ["Guardrails: spec-guard skipped (all 1 skipped)."],
        False,
    ),
    "not-configured": (
        pipeline("p", command("build", "true")),
        0,
        ["Guardrails: spec-guard not configured for this pipeline."],
        False,
    ),
    "required-but-missing": (
        pipeline("p", command("build", "true"), guardrailsRequired=True),
        0,
        [MISSING, "Guardrails: spec-guard command not found."],
        False,
    ),
    "not-required-even-with-guard": (
        pipeline("p", command("spec-guard", "true"), guardrailsRequired=False),
        0,
        ["Guardrails: spec-guard succeeded (1 passed)."],
        True,
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", list(CASES))
def test_guardrail_summary_and_metrics(tmp_path: Path, name: str) -> None:
    """The run's summary lines and the metrics flag, for each way guardrails can end."""
    entry, exit_code, lines, present = CASES[name]
    write_config(tmp_path, entry)
    result, document, run = start_json(tmp_path)
    assert result.returncode == exit_code, result.stderr
    assert document["summary"].split("\n") == lines
    assert run.manifest()["summary"] == document["summary"]
    (line,) = run.metrics_lines()
    assert line["guardrails_present"] is present


def _record(index: int, status: CommandStatus, **fields: Any) -> CommandRecord:
    return CommandRecord(
        index=index,
        id=fields.pop("id", "spec-guard"),
        title=fields.pop("title", "Guard"),
        command=fields.pop("command", "run"),
        status=status,
        **fields,
    )


def test_partial_guardrails_say_what_each_did() -> None:
    """Mixed outcomes that are neither all passed nor all skipped are spelled out."""
    counts = count_guardrails(
        (
            _record(1, CommandStatus.SUCCEEDED),
            _record(2, CommandStatus.SKIPPED),
            _record(3, CommandStatus.PENDING),
        )
    )
    assert guardrail_lines(counts, required=True) == [
        "Guardrails: spec-guard partial (1 passed, 1 skipped, 1 pending of 3)."
    ]
    assert counts.present


def test_a_guard_reporting_it_skipped_counts_as_skipped() -> None:
    """A succeeded guard whose summary says it skipped itself is a skip, not a pass."""
    counts = count_guardrails(
        (_record(1, CommandStatus.SUCCEEDED, summary="[spec-guard] skipped: no specs changed"),)
    )
    assert guardrail_lines(counts, required=True) == [
        "Guardrails: spec-guard skipped (all 1 skipped)."
    ]
    assert not counts.present


def test_guardrail_records_are_found_by_id_title_or_command() -> None:
    """``spec-guard`` anywhere in id, title or command makes a guardrail; else it is not."""
    assert is_guardrail_record(
        _record(1, CommandStatus.PENDING, id="a", title="b", command="bash scripts/spec-guard.sh")
    )
    assert is_guardrail_record(
        _record(1, CommandStatus.PENDING, id="a", title="Run SPEC-GUARD", command=None)
    )
    assert not is_guardrail_record(
        _record(1, CommandStatus.PENDING, id="lint", title="Lint", command="ruff check .")
    )
