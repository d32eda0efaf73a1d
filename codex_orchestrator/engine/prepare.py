"""Making the next stages' files ahead, while the current one runs.

Past its fork and exec, what a short stage costs is mostly the files it needs: its
event file, its instance directory, workspace, ``output.log`` and ``metadata.json``.
Five new inodes take about 1.5 ms on a busy ext4, more than the spawn itself. The
driver knows which stages come next, so their files are made under hidden names while
the current stage's command runs, and starting a stage becomes two renames: in a graph
by a helper thread (file system calls release the GIL), in a linear pipeline by the
driver itself, just after it has started the command. What was made for a stage
that does not start is removed when the loop ends; a runner killed meanwhile leaves
only hidden, empty leftovers, replaced when the run is resumed (``artifacts prune``
removes them too).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from codex_orchestrator.artifacts.stagekeep import StagedInstance, stage_instance
from codex_orchestrator.store.events import StagedFile, stage_file

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Order:
    """What to make ahead for one stage."""

    index: int
    command_log: Path
    staging: Path


@dataclass(frozen=True, slots=True)
class Prepared:
    """What was made ahead for one stage (None where making it failed)."""

    command: StagedFile | None
    instance: StagedInstance | None

    def discard(self) -> None:
        """Remove what was made (the stage did not start)."""
        if self.command is not None:
            self.command.discard()
        if self.instance is not None:
            self.instance.discard()


class Preparer:
    """One helper thread making stages' files ahead; the driver takes them by index.

    ``threaded=False``: no helper; ``go`` makes the files asked for on the caller's
    thread. For a driver that runs each command itself, a helper would only take the
    GIL back and forth with it while the command runs, each hand-off a futex wake
    (an interrupt to the other CPU, which a VM pays for with an exit); the driver has
    nothing else to do then anyway.
    """

    def __init__(self, *, threaded: bool = True) -> None:
        self._threaded = threaded
        self._orders: queue.SimpleQueue[Order | None] = queue.SimpleQueue()
        self._ready: dict[int, Prepared] = {}
        self._requested: set[int] = set()
        self._taken: set[int] = set()
        self._staging_dirs: set[Path] = set()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def outstanding(self) -> int:
        """Stages asked for and not taken yet."""
        return len(self._requested) - len(self._taken)

    def ahead(self, orders: Iterable[Order]) -> None:
        """Make these stages' files ahead (each stage once)."""
        for order in orders:
            if order.index in self._requested:
                continue
            self._requested.add(order.index)
            self._staging_dirs.add(order.staging.parent)
            if self._thread is None and self._threaded:
                self._thread = threading.Thread(target=self._work, name="prepare", daemon=True)
                self._thread.start()
            self._orders.put(order)

    def ready(self, index: int) -> bool:
        """Whether stage ``index``'s files are made and not taken yet."""
        with self._lock:
            return index in self._ready

    def go(self) -> None:
        """A command has just started: make the files asked for now (while it runs,
        not while it is being spawned, when the helper would slow the spawn down)."""
        if self._threaded:
            self._go.set()
        else:
            self._drain()

    def take(self, index: int) -> Prepared | None:
        """What was made for stage ``index``, or None when it is not ready (never
        waited for: the caller then makes the files itself, as fast as the helper)."""
        if index not in self._requested or index in self._taken:
            return None
        self._taken.add(index)
        with self._lock:
            prepared = self._ready.pop(index, None)
            if prepared is None:
                self._cancelled.add(index)  # not made yet: the helper skips it
            return prepared

    def close(self) -> None:
        """Stop the helper and remove whatever no stage took."""
        if self._thread is not None:
            self._orders.put(None)
            self._go.set()
            self._thread.join()
            self._thread = None
        with self._lock:
            leftovers, self._ready = list(self._ready.values()), {}
        for prepared in leftovers:
            prepared.discard()
        for directory in self._staging_dirs:
            with contextlib.suppress(OSError):
                os.rmdir(directory)  # only when empty

    def _work(self) -> None:
        # Waits for a command start, not for orders: being woken by each order would
        # take the GIL from the stage thread just as it is about to spawn.
        while True:
            self._go.wait()
            self._go.clear()
            if not self._drain():
                return

    def _drain(self) -> bool:
        """Make every stage asked for so far; False once ``close``'s stop mark is met."""
        while True:
            try:
                order = self._orders.get_nowait()
            except queue.Empty:
                return True
            if order is None:
                return False
            self._make(order)

    def _make(self, order: Order) -> None:
        with self._lock:
            if order.index in self._cancelled:
                return
        prepared = Prepared(
            command=_attempt(stage_file, order.command_log),
            instance=_attempt(stage_instance, order.staging),
        )
        with self._lock:
            cancelled = order.index in self._cancelled
            if not cancelled:
                self._ready[order.index] = prepared
        if cancelled:
            prepared.discard()  # taken while it was being made: the stage made its own


def _attempt(make: Callable[[Path], _T], path: Path) -> _T | None:
    """``make(path)``, or None when the disk refuses (the stage then makes it itself,
    and reports the error if there is one)."""
    try:
        return make(path)
    except OSError:
        return None
