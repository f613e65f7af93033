"""The timelines and companies reached, counted in SQL (``OutcomeQueries.timeline_counts``), against a brute-force
reference in Python: every support moment and every company's first moment read back and put into Stockholm's
months or weeks one by one (the way the figures were counted before). On the seeded history with known answers
(tests/support_requests/outcome_history.py) and on a random one (tests/web/large_history.py at a small size),
for several definitions, periods that cut months and weeks, and weeks across the clock changes. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_left

import pytest

from support_requests.model import RequestStatus
from support_requests.outcome_report import OutcomeReporter, TimelinePoint
from support_requests.outcomes import Granularity, OutcomeQueries, Period, ReachedDefinition, day_start, local_day
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock
from tests.support_requests.outcome_history import seed_history as seed_known_history
from tests.web.large_history import NOW, HistorySize, seed_history

DEFINITIONS = [ReachedDefinition(), ReachedDefinition(status=RequestStatus.NEW),
               ReachedDefinition(status=RequestStatus.CONNECTED, count_intakes=False),
               ReachedDefinition(status=RequestStatus.ASSIGNED, programme_start=dt.date(2025, 9, 1))]


def reference(queries: OutcomeQueries, granularity: Granularity, period: Period,
              end: dt.datetime) -> tuple[list[TimelinePoint], int, int, int]:
    """(timeline, reached in the period, new in the period, reached to ``end``) from every moment, in Python."""
    firsts = [at for _, at in queries.first_reached(end=end)]
    moments = queries.moments(period.start, end)
    starts = granularity.starts(period.first, period.last)
    active: dict[dt.date, set[int]] = {start: set() for start in starts}
    for company, at in moments:
        active[granularity.start_of(local_day(at))].add(company)
    new = dict.fromkeys(starts, 0)
    for at in firsts:
        if period.start <= at < period.end:
            new[granularity.start_of(local_day(at))] += 1
    ordered = sorted(firsts)
    points = [TimelinePoint(start=start, reached=len(active[start]), new=new[start],
                            cumulative=bisect_left(ordered, min(day_start(granularity.next(start)), period.end)))
              for start in starts]
    return (points, len({company for company, _ in moments}), sum(1 for at in firsts if at >= period.start),
            len(firsts))


def assert_same(reporter: OutcomeReporter, period: Period, granularity: Granularity) -> None:
    report = reporter.report(period, granularity)
    points, reached, new, to_date = reference(reporter.queries, granularity, period, period.end)
    assert list(report.timeline) == points
    assert (report.reached, report.new, report.reached_to_date) == (reached, new, to_date)


def assert_same_goal(reporter: OutcomeReporter) -> None:
    goal = reporter.goal()
    first_month = goal.timeline[0].start
    points, _, _, to_date = reference(reporter.queries, Granularity.MONTH,
                                      Period(first_month, local_day(goal.as_of)), goal.as_of)
    assert list(goal.timeline) == points and goal.reached == to_date


def add_moments_at_midnight(store: RequestStore, clock: FakeClock) -> None:
    """Support moments exactly at the start of a month and of a week in Stockholm (which bucket holds them is
    decided by ``<``): an intake at midnight on 1 March, a request taken in progress at midnight on Monday 30 March
    (summer time), for companies already seen and new ones."""
    from tests.support_requests.helpers import make_draft

    for number, moment in enumerate([day_start(dt.date(2026, 3, 1)), day_start(dt.date(2026, 3, 30))]):
        clock.now = moment
        store.create(make_draft(clock, company_name=f"Midnight {number} AB", org_number=None, channel="console"),
                     f"midnight-intake-{number}")
        clock.now = moment - dt.timedelta(days=2)
        reference = store.create(make_draft(clock, company_name=f"Acme Midnight {number} AB", org_number=None),
                                 f"midnight-{number}").reference
        clock.now = moment
        store.set_status(reference, RequestStatus.IN_PROGRESS, actor="eva")
    clock.now = NOW


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_the_known_history(store: RequestStore, clock: FakeClock, sample_dir, definition) -> None:
    from index.catalogue import load_catalogue

    seed_known_history(store, clock)
    add_moments_at_midnight(store, clock)
    entries = {entry.id: entry for entry in load_catalogue(sample_dir).entries}
    reporter = OutcomeReporter(store.engine, definition, entry=entries.get, clock=clock)
    for first, last in [("2026-01-01", "2026-12-31"), ("2025-12-31", "2026-01-01"), ("2026-03-23", "2026-04-05"),
                        ("2026-03-25", "2026-04-02"), ("2026-10-20", "2026-11-03"), ("2020-01-01", "2030-12-31"),
                        ("2026-03-30", "2026-03-30")]:
        for granularity in Granularity:
            assert_same(reporter, Period.parse(first, last), granularity)
    assert_same_goal(reporter)


def test_a_random_history(store: RequestStore) -> None:
    seed_history(store.engine, "sqlite://", [f"entry-{n}" for n in range(12)],
                 size=HistorySize(companies=40, requests=200, conversations=200))
    rng = random.Random(11)
    for definition in DEFINITIONS:
        reporter = OutcomeReporter(store.engine, definition, entry=lambda _: None, clock=lambda: NOW)
        assert_same_goal(reporter)
        for _ in range(6):
            first = NOW.date() - dt.timedelta(days=rng.randint(0, 800))
            period = Period(first, first + dt.timedelta(days=rng.randint(0, 400)))
            assert_same(reporter, period, rng.choice(list(Granularity)))


def test_a_timeline_needs_a_bucket(store: RequestStore) -> None:
    from support_requests.outcomes import OutcomeError

    with pytest.raises(OutcomeError):
        OutcomeQueries(store.engine, ReachedDefinition()).timeline_counts([], NOW, NOW)
