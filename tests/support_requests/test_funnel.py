"""The funnel against a seeded tracker store and request history with known answers
(tests/support_requests/funnel_history.py): Stockholm weeks across the night the clocks go forward, each step,
a conversation with two requests, and a tracker store that is missing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from support_requests.conversations import TrackerReader, TrackerState
from support_requests.funnel import STEPS, FunnelReporter
from support_requests.outcomes import Period
from support_requests.store import RequestStore
from tests.support_requests.funnel_history import (
    PERIOD,
    TOTAL,
    WEEKS,
    seed_funnel_requests,
    seed_tracker,
)
from tests.support_requests.helpers import FakeClock


@pytest.fixture
def reporter(store: RequestStore, clock: FakeClock, tmp_path: Path) -> FunnelReporter:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    seed_tracker(url)
    seed_funnel_requests(store, clock)
    return FunnelReporter(store.engine, TrackerReader(url))


def test_the_funnel_per_stockholm_week(reporter: FunnelReporter) -> None:
    funnel = reporter.funnel(Period(*PERIOD))
    assert funnel.state is TrackerState.OK
    assert {week.start: week.counts() for week in funnel.weeks} == WEEKS
    assert funnel.total.counts() == TOTAL
    assert [name for name, _ in STEPS] == ["conversations", "searched", "viewed", "requested", "in_progress",
                                           "completed"]


def test_one_week_and_an_empty_one(reporter: FunnelReporter) -> None:
    funnel = reporter.funnel(Period(dt.date(2026, 3, 16), dt.date(2026, 3, 22)))
    assert [week.counts() for week in funnel.weeks] == [(1, 1, 0, 1, 0, 0)]  # c7
    empty = reporter.funnel(Period(dt.date(2026, 5, 4), dt.date(2026, 5, 17)))
    assert [week.start for week in empty.weeks] == [dt.date(2026, 5, 4), dt.date(2026, 5, 11)]
    assert empty.total.counts() == (0,) * 6


def test_a_missing_tracker_store_gives_an_empty_funnel_and_says_so(store: RequestStore, tmp_path: Path) -> None:
    funnel = FunnelReporter(store.engine, TrackerReader(f"sqlite:///{tmp_path / 'none.db'}")).funnel(
        Period(*PERIOD))
    assert funnel.state is TrackerState.MISSING_DATABASE
    assert funnel.total.counts() == (0,) * 6 and len(funnel.weeks) == 2
