"""Spec-guard guardrails: which commands count, and the summary lines they earn."""

from __future__ import annotations

from dataclasses import dataclass

from codex_orchestrator.model import GUARDRAIL_MARKER, CommandRecord, CommandStatus

DIAGNOSTICS_HINT = '"codex-orchestrator start diagnostics --format json --no-interactive"'
MISSING_LINE = f"Guardrail command missing; run {DIAGNOSTICS_HINT} to capture reviewer diagnostics."
FAILED_LINE = f"Guardrail command failed; re-run {DIAGNOSTICS_HINT} to gather failure artifacts."
_EXPLICIT_SKIPS = ("[spec-guard] skipped", "spec-guard skipped", "spec guard skipped")


def is_guardrail_record(record: CommandRecord) -> bool:
    """A command record is a guardrail when its id, title or command names spec-guard."""
    return any(
        GUARDRAIL_MARKER in (text or "").lower()
        for text in (record.id, record.title, record.command)
    )


@dataclass(frozen=True, slots=True)
class GuardrailCounts:
    """How the guardrail commands of a run ended."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    other: int = 0

    @property
    def present(self) -> bool:
        """A guardrail ran and succeeded (what metrics call ``guardrails_present``)."""
        return self.succeeded > 0


def count_guardrails(commands: tuple[CommandRecord, ...]) -> GuardrailCounts:
    """Classify every guardrail command of a run."""
    succeeded = failed = skipped = other = total = 0
    for record in commands:
        if not is_guardrail_record(record):
            continue
        total += 1
        if record.status is CommandStatus.FAILED:
            failed += 1
        elif record.status is CommandStatus.SKIPPED or (
            record.status is CommandStatus.SUCCEEDED
            and any(mark in (record.summary or "").lower() for mark in _EXPLICIT_SKIPS)
        ):
            skipped += 1
        elif record.status is CommandStatus.SUCCEEDED:
            succeeded += 1
        else:
            other += 1
    return GuardrailCounts(total, succeeded, failed, skipped, other)


def guardrail_lines(counts: GuardrailCounts, required: bool) -> list[str]:
    """The recommendation (if any) and the final ``Guardrails:`` line."""
    lines: list[str] = []
    if counts.total == 0:
        if required:
            return [MISSING_LINE, "Guardrails: spec-guard command not found."]
        return ["Guardrails: spec-guard not configured for this pipeline."]
    if counts.failed:
        lines.append(FAILED_LINE)
        lines.append(f"Guardrails: spec-guard failed ({counts.failed}/{counts.total} failed).")
    elif counts.succeeded == counts.total:
        lines.append(f"Guardrails: spec-guard succeeded ({counts.total} passed).")
    elif counts.skipped == counts.total:
        lines.append(f"Guardrails: spec-guard skipped (all {counts.total} skipped).")
    else:
        parts = [
            f"{n} {label}"
            for n, label in (
                (counts.succeeded, "passed"),
                (counts.skipped, "skipped"),
                (counts.other, "pending"),
            )
            if n
        ]
        lines.append(f"Guardrails: spec-guard partial ({', '.join(parts)} of {counts.total}).")
    return lines
