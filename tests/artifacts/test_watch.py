"""Watching live workspaces: real files, a real watcher, bursts coalesced."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_orchestrator.artifacts.watch import ChangeEvent, locate, path_of, watch_changes

GENEROUS_SECONDS = 30


class Observed:
    """Events collected from ``watch_changes``, with a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.changed = threading.Condition()

    def add(self, event: ChangeEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[ChangeEvent], bool]) -> ChangeEvent:
        with self.changed:
            assert self.changed.wait_for(
                lambda: any(predicate(e) for e in self.events), timeout=GENEROUS_SECONDS
            ), f"no such event in {self.events}"
            return next(e for e in self.events if predicate(e))

    def about(self, path: str) -> list[tuple[str, str, int | None]]:
        return [(e.type, e.instance, e.size) for e in self.events if e.path == path]


def _watch_in_thread(instances: Path, ended: threading.Event) -> tuple[Observed, threading.Thread]:
    observed = Observed()

    def consume() -> None:
        for event in watch_changes(instances, ended.is_set, poll_seconds=0.1):
            observed.add(event)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return observed, thread


def _until_watching(observed: Observed, probe: Path) -> None:
    """Rewrite ``probe`` until the watcher reports it: from then on it sees every change."""
    deadline = time.monotonic() + GENEROUS_SECONDS
    written = 0
    while not any(e.path == probe.name for e in observed.events):
        assert time.monotonic() < deadline, "the watcher never started"
        written += 1
        probe.write_text("x" * written)
        time.sleep(0.1)


def test_changes_are_reported_once_each_and_bursts_coalesced(tmp_path: Path) -> None:
    instances = tmp_path / "instances"
    workspace = instances / "01-build" / "workspace"
    workspace.mkdir(parents=True)
    (workspace / "before.txt").write_text("already here")
    ended = threading.Event()
    observed, thread = _watch_in_thread(instances, ended)
    _until_watching(observed, workspace / "probe.txt")

    (workspace / "report.md").write_text("# draft\n")
    observed.wait_for(lambda e: e.path == "report.md")
    content = ""
    for rewrite in range(100):  # a burst: 100 rewrites in well under 200 ms
        content = f"version: {rewrite}\n" + "x" * rewrite
        (workspace / "config.yml").write_text(content)
    observed.wait_for(lambda e: e.path == "config.yml" and e.size == len(content))
    (workspace / "report.md").unlink()
    observed.wait_for(lambda e: e.path == "report.md" and e.type == "deleted")
    (workspace / "last.txt").write_text("written just before the end")
    ended.set()
    thread.join(GENEROUS_SECONDS)
    assert not thread.is_alive(), "the watcher did not stop when the run ended"

    assert observed.about("before.txt") == []
    assert observed.about("report.md") == [("added", "01-build", 8), ("deleted", "01-build", None)]
    burst = observed.about("config.yml")
    assert 1 <= len(burst) <= 2, f"100 rewrites gave {len(burst)} events: {burst}"
    assert burst[0][0] == "added"
    assert observed.about("last.txt") == [("added", "01-build", 27)]
    assert all(e.timestamp.endswith("Z") for e in observed.events)


def test_new_workspaces_and_nested_child_instances_are_followed(tmp_path: Path) -> None:
    instances = tmp_path / "instances"
    ended = threading.Event()
    observed, thread = _watch_in_thread(instances, ended)  # not even instances/ exists yet
    first = instances / "01-prepare" / "workspace" / "deep" / "dir"
    first.mkdir(parents=True)
    (first / "a.json").write_text("{}")
    observed.wait_for(lambda e: e.path == "deep/dir/a.json")
    child = instances / "02-sub" / "instances" / "01-lint" / "workspace"
    child.mkdir(parents=True)
    (child / "lint.txt").write_text("ok")
    observed.wait_for(lambda e: e.instance == "02-sub/01-lint")
    ended.set()
    thread.join(GENEROUS_SECONDS)
    assert not thread.is_alive()
    assert [(e.type, e.instance, e.path) for e in observed.events] == [
        ("added", "01-prepare", "deep/dir/a.json"),
        ("added", "02-sub/01-lint", "lint.txt"),
    ]


def test_a_run_that_ended_before_any_workspace_gives_no_events(tmp_path: Path) -> None:
    assert list(watch_changes(tmp_path / "instances", lambda: True, poll_seconds=0.05)) == []


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("01-a/workspace/x", ("01-a", "x")),
        ("01-a/workspace/d/x", ("01-a", "d/x")),
        ("02-s/instances/01-b/workspace/y", ("02-s/01-b", "y")),
        ("01-a/output.log", None),
        ("01-a/workspace", None),
        ("01-a/instances/01-b/output.log", None),
    ],
)
def test_locate_maps_layout_paths_to_instance_and_path(
    tmp_path: Path, relative: str, expected: tuple[str, str] | None
) -> None:
    assert locate(tmp_path, tmp_path / relative) == expected
    if expected is not None:
        assert path_of(tmp_path, expected) == tmp_path / relative
