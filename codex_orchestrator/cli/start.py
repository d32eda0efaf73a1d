"""``start``: run a pipeline in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from codex_orchestrator.cli.common import (
    ConfigOption,
    ExecutorOption,
    FormatOption,
    OutputFormat,
    SchedulerOption,
    TaskOption,
    repo_root,
    run_core,
)

InteractiveOption = Annotated[
    bool | None,
    typer.Option(
        "--interactive/--no-interactive",
        help="Live view of stages and the last output lines (default: on when stdout is a "
        "terminal; never when it is not).",
        show_default=False,
    ),
]
StageTimeoutOption = Annotated[
    int | None,
    typer.Option(
        "--stage-timeout",
        min=1,
        help="Default timeout in ms for stages without timeoutMs (TERM, grace, then KILL).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``start`` to the app."""
    app.command("start")(start)


def start(
    pipeline: Annotated[
        str | None,
        typer.Argument(
            help="Pipeline id (default: the config's defaultPipeline, else diagnostics)."
        ),
    ] = None,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    interactive: InteractiveOption = None,
    config: ConfigOption = None,
    parent_run: Annotated[
        str | None,
        typer.Option("--parent-run", help="Record this run as a child of run ID (same task)."),
    ] = None,
    stage_timeout: StageTimeoutOption = None,
    executor: ExecutorOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run a pipeline and write its evidence under .runs/<task>/cli/<run-id>/.

    Exit 0 succeeded, 1 failed, 2 usage/input error, 130 cancelled.
    """
    from codex_orchestrator.cli.output import make_observer, print_result, warn
    from codex_orchestrator.engine.launch import StartRequest, launch
    from codex_orchestrator.executors.select import ExecutorChoice
    from codex_orchestrator.model import ExecutorKind

    request = StartRequest(
        root=repo_root(),
        pipeline=pipeline,
        task=task,
        config=config,
        parent_run=parent_run,
        stage_timeout_ms=stage_timeout,
        executor=ExecutorChoice(
            kind=ExecutorKind(executor) if executor is not None else None, scheduler=scheduler
        ),
    )

    run_core(lambda: print_result(launch(request, make_observer(fmt, interactive), warn), fmt))
