"""Keeping the assistant's processes running: a child that stops is started again, a bounded number of times with
growing pauses, instead of taking the others down with it.

``navigator run`` starts the Navigator service and the Rasa server as children of one :class:`Supervisor` and
calls :meth:`Supervisor.check` every second. A child that stopped is started again after a back-off (1, 2, 4, 8
and 16 seconds by default); one that stops more often than ``max_restarts`` times within ``window`` seconds is
given up on, and the caller stops everything with a message that says which child and where its log is.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0)


class ChildGaveUp(RuntimeError):
    """A child stopped more often than allowed; the message names it and its log."""


@dataclass
class Child:
    """One supervised process.

    Attributes:
        name: what the log calls it ("the Rasa server").
        command: the program and its arguments.
        cwd: its working folder.
        log: the file its output is appended to.
        env: its environment.
    """

    name: str
    command: Sequence[str]
    cwd: Path
    log: Path
    env: Mapping[str, str]
    process: subprocess.Popen | None = None
    stops: list[float] = field(default_factory=list)
    restart_at: float | None = None

    def start(self) -> subprocess.Popen:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(list(self.command), stdout=out, stderr=subprocess.STDOUT,
                                            env=dict(self.env), cwd=self.cwd)
        return self.process

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None


class Supervisor:
    """Starts children and starts again those that stop.

    Args:
        children: the processes, started in this order.
        max_restarts: restarts of one child allowed within ``window`` seconds; one more stop gives up.
        window: seconds over which a child's stops are counted.
        backoff: pauses before the first, second, ... restart within the window (the last one repeats).
        clock: monotonic seconds (tests pass a fake clock).
        say: where the supervisor reports restarts (the launcher prints them to standard error).
    """

    def __init__(self, children: Sequence[Child], *, max_restarts: int = 5, window: float = 600.0,
                 backoff: Sequence[float] = DEFAULT_BACKOFF, clock: Callable[[], float] = time.monotonic,
                 say: Callable[[str], None] = print):
        self.children = list(children)
        self.max_restarts = max_restarts
        self.window = window
        self.backoff = tuple(backoff)
        self.clock = clock
        self.say = say
        self.restarts = 0

    def check(self) -> None:
        """Notice children that stopped, and start again those whose pause is over.

        Raises:
            ChildGaveUp: a child stopped more than ``max_restarts`` times within ``window`` seconds.
        """
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    child.start()
                    self.restarts += 1
                    self.say(f"navigator: {child.name} started again (pid {child.process.pid})")
                continue
            if not child.exited():
                continue
            code = child.process.returncode
            child.stops = [t for t in child.stops if now - t < self.window] + [now]
            if len(child.stops) > self.max_restarts:
                raise ChildGaveUp(f"{child.name} stopped {len(child.stops)} times within {self.window:.0f} s "
                                  f"(last exit {code}); giving up; see {child.log}")
            pause = self.backoff[min(len(child.stops), len(self.backoff)) - 1]
            child.restart_at = now + pause
            self.say(f"navigator: {child.name} stopped (exit {code}); starting it again in {pause:g} s "
                     f"(restart {len(child.stops)} of at most {self.max_restarts} within {self.window:.0f} s); "
                     f"see {child.log}")

    def processes(self) -> tuple[subprocess.Popen, ...]:
        """The children's current processes."""
        return tuple(child.process for child in self.children if child.process is not None)
