"""The executor seam: executors ship bytes; the stage side makes the evidence."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
from helpers import only_run, output_bytes

from codex_orchestrator.engine.context import run_settings
from codex_orchestrator.engine.executor import (
    CancelSignal,
    CommandOutcome,
    CommandRequest,
    OutputSink,
)
from codex_orchestrator.engine.observer import NullObserver
from codex_orchestrator.engine.process import LocalExecutor
from codex_orchestrator.engine.runner import start_run
from codex_orchestrator.engine.signals import CancelWatch
from codex_orchestrator.model import CommandStage, Config, Pipeline
from codex_orchestrator.store.layout import RunsLayout


class ByteByByte:
    """An executor that hands the local executor's output on one byte at a time."""

    def __init__(self) -> None:
        self.requests: list[CommandRequest] = []

    def run(
        self, request: CommandRequest, sink: OutputSink, cancel: CancelSignal
    ) -> CommandOutcome:
        self.requests.append(request)

        class Trickle:
            def write(self, stream: str, data: bytes) -> None:
                for position in range(len(data)):
                    sink.write(stream, data[position : position + 1])

        return LocalExecutor().run(request, Trickle(), cancel)


def test_any_executor_gets_the_same_line_events(tmp_path: Path) -> None:
    """Bytes in arbitrary chunks become the same line events, tails and error file."""
    stage = CommandStage(
        id="talk", title="talk", command="printf 'one\\ntwo\\n'; printf 'oops' >&2; exit 4"
    )
    pipeline = Pipeline(id="p", title="p", stages=(stage,))
    config = Config(path=None, default_pipeline=None, pipelines={"p": pipeline})
    executor = ByteByByte()
    layout = RunsLayout.for_root(tmp_path)
    with run_settings(layout, config, None, NullObserver(), None, executor=executor) as settings:
        result = start_run(settings, pipeline, "0101")

    assert result.manifest.status == "failed"
    (request,) = executor.requests
    assert request.stage_id == "talk"
    assert request.index == 1
    assert request.argv == ("/bin/sh", "-c", stage.command)
    run = only_run(tmp_path)
    events = run.command_events("01-talk")
    lines = [e["data"] for e in events if e["type"] == "command:stdout"]
    assert lines == ["one", "two"]
    assert output_bytes(events, "stderr") == b"oops"
    error = run.error("01-talk")
    assert error["details"]["stderr_tail"] == "oops"
    assert error["details"]["exit_code"] == 4
    assert result.manifest.commands[0].summary == "Exited with code 4 — oops"


class Collect:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def write(self, stream: str, data: bytes) -> None:
        self.data[stream] += data


def test_cancel_ends_the_whole_tree_of_every_running_command(tmp_path: Path) -> None:
    """One cancel request reaches commands running on several threads at once."""
    outcomes: list[CommandOutcome] = []
    pids: list[int] = []
    request = CommandRequest(
        argv=("/bin/sh", "-c", "sleep 60 & echo $!; wait"),
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    with CancelWatch() as cancel:
        sinks = [Collect(), Collect()]

        def work(sink: Collect) -> None:
            outcomes.append(LocalExecutor().run(request, sink, cancel))

        threads = [threading.Thread(target=work, args=(sink,)) for sink in sinks]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while not all(sink.data["stdout"].strip() for sink in sinks):
            assert time.monotonic() < deadline, "the commands did not start"
            time.sleep(0.02)
        pids = [int(sink.data["stdout"]) for sink in sinks]
        cancel.request("SIGTERM")
        for thread in threads:
            thread.join(timeout=30)
    assert len(outcomes) == 2
    assert all(outcome.cancelled for outcome in outcomes)
    assert all(outcome.signal == "SIGTERM" for outcome in outcomes)
    # A process being ended may still show as running for a moment; a survivor would not
    # go away at all (it sleeps for a minute).
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "a background job outlived the cancel"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_command_that_cannot_start_is_a_spawn_error(tmp_path: Path) -> None:
    """The outcome says why, with no exit code and no signal."""
    request = CommandRequest(argv=("/nonexistent/tool",), cwd=tmp_path, env={})
    with CancelWatch() as cancel:
        outcome = LocalExecutor().run(request, Collect(), cancel)
    assert outcome.spawn_error is not None
    assert "/nonexistent/tool" in outcome.spawn_error
    assert (outcome.exit_code, outcome.signal) == (None, None)
