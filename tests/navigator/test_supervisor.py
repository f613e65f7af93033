"""The launcher's supervisor (navigator/supervisor.py): a child that stops is started again with growing pauses,
a bounded number of times, and the others keep running. The children are real (small Python programs); the
clock is fake, so no test waits for a back-off."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from navigator.supervisor import Child, ChildGaveUp, Supervisor


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def child(tmp_path: Path, name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code], cwd=tmp_path, log=tmp_path / f"{name}.log",
                 env=dict(os.environ))


def wait_exit(process) -> None:
    process.wait(timeout=30)


@pytest.fixture
def sleeper(tmp_path: Path):
    made = child(tmp_path, "sleeper", "import time; time.sleep(60)")
    yield made
    if made.process and made.process.poll() is None:
        made.process.kill()
        made.process.wait()


def test_a_stopped_child_is_started_again_after_a_growing_pause_and_the_other_keeps_running(
        tmp_path: Path, sleeper: Child) -> None:
    clock, said = FakeClock(), []
    crasher = child(tmp_path, "crasher", "print('started', flush=True); raise SystemExit(3)")
    supervisor = Supervisor([sleeper, crasher], max_restarts=3, window=600, backoff=(1, 2, 4), clock=clock,
                            say=said.append)
    sleeper.start()
    sleeper_pid = sleeper.process.pid
    crasher.start()
    pauses = []
    for _ in range(3):
        wait_exit(crasher.process)
        supervisor.check()  # notices the stop
        pauses.append(crasher.restart_at - clock.now)
        first_pid = crasher.process.pid
        supervisor.check()  # too early: nothing happens
        assert crasher.process.pid == first_pid
        clock.now = crasher.restart_at
        supervisor.check()  # the pause is over: started again
        assert crasher.process.pid != first_pid
    assert pauses == [1, 2, 4]
    assert supervisor.restarts == 3
    assert sleeper.process.pid == sleeper_pid and sleeper.process.poll() is None
    assert (tmp_path / "crasher.log").read_text().count("started") >= 3
    assert "crasher stopped (exit 3); starting it again in 1 s (restart 1 of at most 3 within 600 s)" in said[0]
    # A fourth stop within the window gives up, naming the child and its log.
    wait_exit(crasher.process)
    with pytest.raises(ChildGaveUp, match=r"crasher stopped 4 times within 600 s \(last exit 3\).*crasher.log"):
        supervisor.check()


def test_stops_further_apart_than_the_window_never_add_up(tmp_path: Path) -> None:
    clock = FakeClock()
    crasher = child(tmp_path, "crasher", "raise SystemExit(1)")
    supervisor = Supervisor([crasher], max_restarts=2, window=60, backoff=(1,), clock=clock, say=lambda _: None)
    crasher.start()
    for _ in range(6):
        wait_exit(crasher.process)
        supervisor.check()
        clock.now = crasher.restart_at
        supervisor.check()
        clock.now += 61  # the next stop comes more than a window later
    assert supervisor.restarts == 6


def test_a_running_child_is_left_alone(tmp_path: Path, sleeper: Child) -> None:
    supervisor = Supervisor([sleeper], clock=FakeClock(), say=lambda _: None)
    sleeper.start()
    time.sleep(0.1)
    supervisor.check()
    assert supervisor.restarts == 0 and sleeper.restart_at is None
