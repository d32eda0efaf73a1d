"""``start``: run a pipeline in the foreground."""

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
    TargetOption,
    TargetStageOption,
    TaskOption,
    fail,
    repo_root,
    run_core,
)

InteractiveOption = Annotated[
    bool | None,
    typer.Option(
        "--interactive/--no-interactive",
        help="Live view of stages and the last output lines on a terminal (off unless asked "
        "for, as in the TypeScript tool; never when stdout is not a terminal).",
        show_default=False,
    ),
]
StageTimeoutOption = Annotated[
    int | None,
    typer.Option(
        "--stage-timeout",
        min=1,
        metavar="MS",
        help="Default timeout in ms for stages without timeoutMs (TERM, grace, then KILL).",
        show_default=False,
    ),
]

JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        min=1,
        help="Stages of a graph pipeline (one with needs) run at once (default: the "
        "pipeline's jobs, else the number of CPUs).",
        show_default=False,
    ),
]
FailFastOption = Annotated[
    bool,
    typer.Option(
        "--fail-fast", help="After a stage fails, launch nothing new; running stages finish."
    ),
]


def _recorded(name: str, field: str, metavar: str = "TEXT") -> object:
    return typer.Option(
        name, metavar=metavar, help=f"Recorded in the manifest as {field}.", show_default=False
    )


# The TypeScript tool's agent-only options. Some take an optional value
# (``--multi-agent [auto|true|false]``), which a parser cannot tell from the pipeline
# argument, so they are refused by name before parsing.
AGENT_ONLY_OPTIONS = (
    "--cloud",
    "--execution-mode",
    "--runtime-mode",
    "--goal",
    "--validator",
    "--max-iterations",
    "--max-minutes",
    "--roles",
    "--multi-agent",
    "--collab",
    "--auto-issue-log",
)
AGENT_ONLY_COMMANDS = ("start", "resume", "plan")


def refuse_agent_options(argv: list[str]) -> None:
    """Exit 2 with one line when ``start``/``resume``/``plan`` is given an agent-only option."""
    commands = [arg for arg in argv if not arg.startswith("-")]
    if not commands or commands[0] not in AGENT_ONLY_COMMANDS:
        return
    for arg in argv:
        if arg == "--":
            return
        name = arg.split("=", 1)[0]
        if name in AGENT_ONLY_OPTIONS:
            fail(
                f"{name} is not supported: this runner runs commands, not agents "
                "(see the README's compatibility list)"
            )


def register(app: typer.Typer) -> None:
    """Add ``start`` to the app."""
    app.command("start")(start)


def start(
    pipeline: Annotated[
        str | None,
        typer.Argument(
            metavar="PIPELINE",
            help="Pipeline id (default: the config's defaultPipeline, else diagnostics).",
            show_default=False,
        ),
    ] = None,
    task: TaskOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    interactive: InteractiveOption = None,
    ui: Annotated[bool, typer.Option("--ui", help="Same as --interactive.")] = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    parent_run: Annotated[
        str | None,
        typer.Option(
            "--parent-run",
            metavar="ID",
            help="Record this run as a child of run ID (same task).",
            show_default=False,
        ),
    ] = None,
    stage_timeout: StageTimeoutOption = None,
    jobs: JobsOption = None,
    fail_fast: FailFastOption = False,
    approval_policy: Annotated[
        str | None, _recorded("--approval-policy", "approval_policy", "POLICY")
    ] = None,
    target: TargetOption = None,
    target_stage: TargetStageOption = None,
    issue_provider: Annotated[str | None, _recorded("--issue-provider", "issue_provider")] = None,
    issue_id: Annotated[str | None, _recorded("--issue-id", "issue_id", "ID")] = None,
    issue_identifier: Annotated[
        str | None, _recorded("--issue-identifier", "issue_identifier", "ID")
    ] = None,
    issue_updated_at: Annotated[
        str | None, _recorded("--issue-updated-at", "issue_updated_at", "ISO")
    ] = None,
    repo_config_required: Annotated[
        bool,
        typer.Option(
            "--repo-config-required",
            envvar="CODEX_ORCHESTRATOR_REPO_CONFIG_REQUIRED",
            help="Refuse to run the built-in pipelines when there is no config file.",
        ),
    ] = False,
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
        jobs=jobs,
        fail_fast=fail_fast,
        approval_policy=approval_policy,
        target=target or target_stage,
        issue_provider=issue_provider,
        issue_id=issue_id,
        issue_identifier=issue_identifier,
        issue_updated_at=issue_updated_at,
        repo_config_required=repo_config_required,
        executor=ExecutorChoice(
            kind=ExecutorKind(executor) if executor is not None else None, scheduler=scheduler
        ),
    )
    observer = make_observer(fmt, True if ui else interactive, quiet=quiet, root=request.root)
    run_core(lambda: print_result(launch(request, observer, warn), fmt))
