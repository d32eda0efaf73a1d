"""``resume``: finish a crashed, failed or cancelled run."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    ExecutorOption,
    FormatOption,
    OutputFormat,
    QuietOption,
    SchedulerOption,
    TaskOption,
    repo_root,
    run_core,
)
from codex_orchestrator.cli.start import FailFastOption, JobsOption, StageTimeoutOption


def register(app: typer.Typer) -> None:
    """Add ``resume`` to the app."""
    app.command("resume")(resume)


def resume(
    run: Annotated[str, typer.Option("--run", help="Run id to resume.", show_default=False)],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Resume token (default: the run's .resume-token file).",
            show_default=False,
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Who resumes (default: $USER).", show_default=False),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (recorded in resume_events).", show_default=False),
    ] = None,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    config: ConfigOption = None,
    stage_timeout: StageTimeoutOption = None,
    jobs: JobsOption = None,
    fail_fast: FailFastOption = False,
    quiet: QuietOption = False,
    executor: ExecutorOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Re-run the stages of a run that did not succeed.

    Refused (exit 2, recorded as a blocked resume event) when the token is wrong, the
    runner is still alive, or the run already succeeded. Otherwise exits like start.
    """
    from codex_orchestrator.cli.output import make_observer, print_result, warn
    from codex_orchestrator.engine.resume import ResumeRequest
    from codex_orchestrator.engine.resume import resume as resume_run
    from codex_orchestrator.executors.select import ExecutorChoice
    from codex_orchestrator.model import ExecutorKind

    request = ResumeRequest(
        root=repo_root(),
        run_id=run,
        task=task,
        token=token,
        actor=actor,
        reason=reason,
        config=config,
        stage_timeout_ms=stage_timeout,
        jobs=jobs,
        fail_fast=fail_fast,
        executor=ExecutorChoice(
            kind=ExecutorKind(executor) if executor is not None else None, scheduler=scheduler
        ),
    )

    observer = make_observer(fmt, interactive=False, quiet=quiet, root=request.root)
    run_core(lambda: print_result(resume_run(request, observer, warn), fmt))
