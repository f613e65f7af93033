"""Response times and waiting requests against a seeded history with known answers
(tests/support_requests/response_history.py): percentiles overall, per entry and per advisor; working days across
Easter, Midsummer and Christmas; Stockholm's day boundary."""

from __future__ import annotations

import datetime as dt
import random
import statistics

import pytest

from support_requests.model import RequestStatus
from support_requests.outcomes import Period
from support_requests.response_times import (
    NO_ENTRY,
    UNASSIGNED,
    ResponseQueries,
    percentile,
    summarise,
    waits_too_long,
)
from support_requests.store import RequestStore
from support_requests.working_days import (
    is_working_day,
    latest_day_waiting_over,
    working_days_after,
)
from tests.support_requests.helpers import FakeClock
from tests.support_requests.response_history import at, seed_responses

YEAR_2026 = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
D = dt.date


@pytest.fixture
def seeded(store: RequestStore, clock: FakeClock) -> dict[str, str]:
    return seed_responses(store, clock)


def test_working_days_know_the_swedish_holidays_and_eves() -> None:
    days_off = [D(2026, 1, 1), D(2026, 1, 6), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 1), D(2026, 5, 14),
                D(2026, 6, 19), D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 31), D(2027, 1, 6),
                D(2026, 4, 4), D(2026, 4, 5)]  # Easter's weekend
    assert not any(is_working_day(day) for day in days_off)
    assert all(is_working_day(day) for day in [D(2026, 4, 2), D(2026, 4, 7), D(2026, 6, 18), D(2026, 12, 23),
                                                D(2027, 1, 4)])
    assert working_days_after(D(2026, 4, 2), D(2026, 4, 13)) == 5  # Easter: 7, 8, 9, 10, 13
    assert working_days_after(D(2026, 4, 2), D(2026, 4, 2)) == 0
    assert working_days_after(D(2026, 12, 22), D(2027, 1, 5)) == 6  # 23, 28, 29, 30 Dec, 4 and 5 Jan


def test_latest_day_waiting_over_agrees_with_counting_every_day() -> None:
    rng = random.Random(7)
    for _ in range(200):
        today = D(2026, 1, 1) + dt.timedelta(days=rng.randrange(730))
        threshold = rng.randrange(0, 12)
        latest = latest_day_waiting_over(today, threshold)
        assert working_days_after(latest, today) > threshold
        assert working_days_after(latest + dt.timedelta(days=1), today) <= threshold


def test_percentiles_match_the_inclusive_reference() -> None:
    rng = random.Random(3)
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    for size in (2, 3, 7, 10, 101):
        values = [rng.uniform(0, 500) for _ in range(size)]
        reference = statistics.quantiles(values, n=10, method="inclusive")
        assert percentile(values, 0.5) == pytest.approx(statistics.median(values))
        assert percentile(values, 0.9) == pytest.approx(reference[8])


def test_response_times_of_the_year(store: RequestStore, seeded) -> None:
    times = summarise(ResponseQueries(store.engine).request_times(YEAR_2026.start, YEAR_2026.end))
    overall = times.overall
    assert (overall.first_action.requests, overall.first_action.measured) == (8, 4)
    assert overall.first_action.median == pytest.approx(18)
    assert overall.first_action.p90 == pytest.approx(91.2)
    assert (overall.handover.measured, overall.handover.median, overall.handover.p90) == (2, 168, 168)

    advisors = {row.key: row for row in times.by_advisor}
    assert list(advisors) == ["eva", "olle", UNASSIGNED]
    assert advisors["eva"].first_action.median == pytest.approx(24)
    assert advisors["eva"].first_action.p90 == pytest.approx(100.8)
    assert advisors["eva"].handover.median == 168
    assert (advisors["olle"].first_action.median, advisors["olle"].first_action.p90) == (12, 12)
    assert (advisors[UNASSIGNED].first_action.requests, advisors[UNASSIGNED].first_action.measured) == (4, 0)
    assert advisors[UNASSIGNED].first_action.median is None

    entries = {row.key: row for row in times.by_entry}
    assert list(entries) == ["cryo-em-solna", "flow-biomedicum", "vecura-gmp", NO_ENTRY]
    assert entries["vecura-gmp"].first_action.median == pytest.approx(66)
    assert entries["vecura-gmp"].first_action.p90 == pytest.approx(109.2)
    assert entries["vecura-gmp"].handover.median == 168
    assert (entries["cryo-em-solna"].first_action.requests, entries["cryo-em-solna"].first_action.measured,
            entries["cryo-em-solna"].first_action.median) == (2, 1, 12)
    assert entries["flow-biomedicum"].first_action.median == pytest.approx(1)
    assert (entries[NO_ENTRY].first_action.requests, entries[NO_ENTRY].first_action.median) == (4, 24)


def test_a_period_takes_the_requests_received_in_its_stockholm_days(store: RequestStore, seeded) -> None:
    queries = ResponseQueries(store.engine)
    april_2 = queries.request_times(Period(D(2026, 4, 2), D(2026, 4, 2)).start, Period(D(2026, 4, 2),
                                                                                       D(2026, 4, 2)).end)
    # A and F, and H (22:30 UTC on the 1st is 00:30 on the 2nd in Stockholm); not I (23:30 on the 1st).
    assert len(april_2) == 3
    assert all(not t.entry_ids or t.entry_ids == ("vecura-gmp",) for t in april_2)


@pytest.mark.parametrize(("now", "flagged"), [
    (at(2026, 4, 10, 12, 0), []),                              # without Easter, F and H would be flagged
    (at(2026, 4, 13, 12, 0), ["I"]),                           # I was received on 1 April in Stockholm
    (at(2026, 4, 14, 12, 0), ["I", "H", "F"]),
    (at(2026, 6, 25, 12, 0), ["I", "H", "F"]),                 # G: Midsummer Eve is a day off
    (at(2026, 6, 26, 12, 0), ["I", "H", "F", "G"]),
    (at(2027, 1, 4, 12, 0), ["I", "H", "F", "G"]),             # C: Christmas, New Year's Eve and Day
    (at(2027, 1, 5, 12, 0), ["I", "H", "F", "G", "C"]),
])
def test_requests_waiting_too_long(store: RequestStore, seeded, now: dt.datetime, flagged: list[str]) -> None:
    names = {reference: name for name, reference in seeded.items()}
    queries = ResponseQueries(store.engine)
    waiting = queries.waiting(now, 5)
    assert [names[w.reference] for w in waiting] == flagged
    assert all(w.working_days > 5 for w in waiting)
    assert queries.waiting_count(now, 5) == len(flagged)
    assert [names[w.reference] for w in queries.waiting(now, 5, limit=2)] == flagged[:2]
    for request in store.list():
        expected = names[request.reference] in flagged
        assert waits_too_long(request.status, request.created_at, now, 5) is expected


def test_a_request_taken_in_progress_no_longer_waits(store: RequestStore, clock: FakeClock, seeded) -> None:
    clock.now = at(2026, 4, 20, 9, 0)
    store.set_status(seeded["F"], RequestStatus.IN_PROGRESS, actor="eva")
    names = {reference: name for name, reference in seeded.items()}
    assert [names[w.reference] for w in ResponseQueries(store.engine).waiting(at(2026, 4, 20, 12, 0), 5)] == ["I", "H"]
    assert [names[w.reference] for w in ResponseQueries(store.engine).waiting(at(2026, 4, 20, 12, 0), 10)] == ["I"]
