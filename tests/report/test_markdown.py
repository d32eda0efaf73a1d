"""The Markdown step summary of real runs, and its 1 MiB bound on a huge run."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from codex_orchestrator.model import CommandRecord, CommandStatus
from codex_orchestrator.report.markdown import render_markdown
from codex_orchestrator.report.model import load_report
from codex_orchestrator.report.text import NEST
from codex_orchestrator.store.catalog import locate_run
from codex_orchestrator.store.layout import RunsLayout

from .runs import HOSTILE_LINE, SampleRuns

MIB = 1024 * 1024


def _outside_code(markdown: str) -> str:
    """The text that GitHub renders as Markdown (fenced blocks and code spans removed)."""
    without_blocks = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", markdown)
    return re.sub(r"`[^`\n]*`", "", without_blocks)


def test_a_failed_run_with_a_subpipeline(sample_runs: SampleRuns) -> None:
    text = sample_runs.report(sample_runs.ci, "markdown").decode("utf-8")
    assert text.startswith("## ❌ CI (ci): failed\n")
    assert f"Run `{sample_runs.ci}`" in text
    assert "| # | Stage | Status | Duration | Exit | CPU | Peak RSS | Summary |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    names = [re.search(r"`([^`]*)`", row).group(1) for row in rows]  # type: ignore[union-attr]
    nested = [f"checks{NEST}lint", f"checks{NEST}spec-guard"]
    assert names == ["build", "checks", *nested, "hostile", "after"]
    hostile = next(row for row in rows if "`hostile`" in row)
    assert "❌ failed" in hostile
    assert "| 3 |" in hostile
    assert "### Failures" in text
    # The failure's last lines sit in a fenced block, where they stay text.
    block = re.search(r"(?ms)^(`{3,})text\n(.*?)^\1$", text.split("### Failures")[1])
    assert block is not None
    assert HOSTILE_LINE in block.group(2)
    # Outside code, nothing from a command can become HTML.
    assert "<script" not in _outside_code(text)
    assert "<img" not in _outside_code(text)
    assert "Guardrails: spec-guard not configured for this pipeline." in text


def test_a_timed_out_stage(sample_runs: SampleRuns) -> None:
    text = sample_runs.report(sample_runs.slow, "markdown").decode("utf-8")
    assert "(command-timeout)" in text
    assert "⏭️ skipped" in text  # the allowed failure


def test_a_resumed_run_lists_its_resume_events(sample_runs: SampleRuns) -> None:
    text = sample_runs.report(sample_runs.flaky, "markdown").decode("utf-8")
    assert text.startswith("## ✅ Flaky (flaky): succeeded")
    assert "### Resume events" in text
    assert "accepted" in text
    assert "retry &lt;b&gt;now&lt;/b&gt;" in text


def _huge_run(root: Path, stages: int) -> None:
    """A run on disk with many failed stages, long summaries and full error tails."""
    run_id = "2026-01-01T00-00-00-000Z-0badc0de"
    run_dir = root / ".runs" / "0101" / "cli" / run_id
    (run_dir / "errors").mkdir(parents=True)
    commands = []
    for index in range(1, stages + 1):
        record = CommandRecord(
            index=index,
            id=f"stage-{index}",
            title=f"Stage {index}",
            command="x" * 200,
            status=CommandStatus.FAILED,
            started_at="2026-01-01T00:00:00.000Z",
            completed_at="2026-01-01T00:00:01.000Z",
            exit_code=1,
            summary="s" * 400,
        )
        commands.append(record.to_dict())
        error = {
            "reason": "command-failed",
            "details": {"stdout_tail": "line\n" * 1600, "stderr_tail": "err\n" * 2000},
        }
        (run_dir / "errors" / f"{index:02d}-stage-{index}.json").write_bytes(orjson.dumps(error))
    document = {
        "run_id": run_id,
        "task_id": "0101",
        "pipeline_id": "big",
        "pipeline_title": "Big",
        "status": "failed",
        "started_at": "2026-01-01T00:00:00.000Z",
        "completed_at": "2026-01-01T00:10:00.000Z",
        "summary": "failed\n" * 5000,
        "commands": commands,
    }
    (run_dir / "manifest.json").write_bytes(orjson.dumps(document))


def test_stays_under_one_mib_whatever_the_size(tmp_path: Path) -> None:
    _huge_run(tmp_path, 3000)
    layout = RunsLayout.for_root(tmp_path)
    report = load_report(layout, locate_run(layout, "2026-01-01T00-00-00-000Z-0badc0de", None))
    data = render_markdown(report)
    assert len(data) < MIB
    text = data.decode("utf-8")  # never cut inside a character
    assert "Left out to keep this summary under 1 MiB" in text
    assert "stage rows" in text or "failures" in text
    assert "| 1 | `stage-1` |" in text
    # Fences are balanced: the truncation never leaves a code block open.
    assert len(re.findall(r"(?m)^`{3,}", text)) % 2 == 0
