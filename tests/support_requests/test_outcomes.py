"""The outcome figures against a seeded history with known answers (tests/support_requests/outcome_history.py):
companies reached, new, over time in Stockholm's months and weeks, by form of support, site and entry, requests
by status; each definition of "reached"; merges and erasure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from index.catalogue import load_catalogue
from support_requests.companies import CompanyStore
from support_requests.model import RequestStatus
from support_requests.outcome_report import OutcomeReporter, TimelinePoint
from support_requests.outcomes import (
    Granularity,
    OutcomeError,
    Period,
    ReachedDefinition,
    day_start,
    local_day,
)
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock
from tests.support_requests.outcome_history import AFTER, LAB_SPACE, at, seed_history

DEFAULT = ReachedDefinition(lab_space_entries=LAB_SPACE)
YEAR_2026 = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def lookup(sample_dir) -> Callable:
    entries = {entry.id: entry for entry in load_catalogue(sample_dir).entries}
    return entries.get


@pytest.fixture
def seeded(store: RequestStore, clock: FakeClock):
    return seed_history(store, clock)


@pytest.fixture
def reporter(store: RequestStore, clock: FakeClock, lookup, seeded) -> Callable[..., OutcomeReporter]:
    def make(**changes) -> OutcomeReporter:
        return OutcomeReporter(store.engine, dataclasses.replace(DEFAULT, **changes), entry=lookup, clock=clock)
    return make


def rows(breakdown) -> dict[str, tuple[int, int]]:
    return {row.key: (row.companies, row.requests) for row in breakdown}


def test_stockholm_days_and_period_bounds() -> None:
    assert local_day(at(2025, 12, 31, 23, 30)) == dt.date(2026, 1, 1)
    assert local_day(at(2026, 6, 30, 22, 30)) == dt.date(2026, 7, 1)  # summer time: UTC+2
    assert day_start(dt.date(2026, 1, 1)) == at(2025, 12, 31, 23, 0)
    assert day_start(dt.date(2026, 7, 1)) == at(2026, 6, 30, 22, 0)
    period = Period.parse("2026-03-29", "2026-03-29")  # the night the clocks go forward: a 23-hour day
    assert period.end - period.start == dt.timedelta(hours=23)
    with pytest.raises(OutcomeError, match="ends before it starts"):
        Period.parse("2026-02-01", "2026-01-31")
    with pytest.raises(OutcomeError, match="from must be a date"):
        Period.parse("1 Jan", "2026-01-31")


def test_months_and_weeks() -> None:
    assert Granularity.MONTH.starts(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    assert Granularity.WEEK.starts(dt.date(2026, 1, 1), dt.date(2026, 1, 12)) == [
        dt.date(2025, 12, 29), dt.date(2026, 1, 5), dt.date(2026, 1, 12)]


def test_the_definition_is_checked() -> None:
    with pytest.raises(OutcomeError):
        ReachedDefinition(status=RequestStatus.CLOSED)
    with pytest.raises(OutcomeError):
        ReachedDefinition(target=0)
    assert DEFAULT.qualifying_statuses == ("in_progress", "connected")


def test_the_year_with_the_default_definition(reporter) -> None:
    report = reporter().report(YEAR_2026)
    # Alpha (twice, one company), Beta (an intake), Delta, Epsilon; Gamma was never in progress.
    assert (report.reached, report.new, report.reached_to_date) == (4, 4, 4)
    assert report.requests_received == 6  # r1 came on New Year's Eve in Stockholm
    assert dict(report.statuses) == {
        RequestStatus.NEW: 1, RequestStatus.ASSIGNED: 1, RequestStatus.IN_PROGRESS: 2,
        RequestStatus.CONNECTED: 0, RequestStatus.CLOSED: 1, RequestStatus.WITHDRAWN: 1}
    assert rows(report.forms) == {"facility_referral": (2, 2), "advisor_intake": (1, 1),
                                  "programme_advice": (1, 1), "lab_space": (1, 1), "other": (1, 1)}
    assert rows(report.sites) == {"flemingsberg": (2, 2), "hagastaden": (1, 1), "elsewhere": (1, 1),
                                  "unknown": (1, 1)}
    assert [(e.entry_id, e.companies, e.requests) for e in report.entries] == [
        ("vecura-gmp", 2, 2), ("almi-loans", 1, 1), ("flow-biomedicum", 1, 1), ("gone-entry", 1, 1)]
    assert report.entries[0].name == "Vecura" and report.entries[0].site == "Flemingsberg"
    assert [(p.start.month, p.reached, p.new, p.cumulative) for p in report.timeline] == [
        (1, 2, 2, 2), (2, 1, 0, 2), (3, 1, 1, 3), (4, 1, 0, 3), (5, 0, 0, 3), (6, 1, 1, 4),
        (7, 0, 0, 4), (8, 0, 0, 4), (9, 0, 0, 4), (10, 0, 0, 4), (11, 0, 0, 4), (12, 0, 0, 4)]


def test_new_years_eve_in_stockholm_is_not_december(reporter) -> None:
    december = reporter().report(Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31)))
    assert (december.reached, december.requests_received) == (0, 1)  # received on the 31st, reached on the 1st
    january = reporter().report(Period(dt.date(2026, 1, 1), dt.date(2026, 1, 1)))
    assert (january.reached, january.new) == (1, 1)


def test_weeks_follow_stockholm_across_the_clock_change(reporter) -> None:
    report = reporter().report(Period(dt.date(2026, 3, 23), dt.date(2026, 4, 5)), Granularity.WEEK)
    # Delta went in progress at 00:30 on Monday 30 March in Stockholm (still Sunday in UTC).
    assert report.timeline == (TimelinePoint(dt.date(2026, 3, 23), 0, 0, 2),
                               TimelinePoint(dt.date(2026, 3, 30), 1, 1, 3))
    sunday = reporter().report(Period(dt.date(2026, 3, 29), dt.date(2026, 3, 29)))
    assert sunday.reached == 0


def test_other_definitions(reporter) -> None:
    assert reporter(status=RequestStatus.ASSIGNED).report(YEAR_2026).reached == 5  # Gamma was assigned
    assert reporter(count_intakes=False).report(YEAR_2026).reached == 3  # Beta had only an intake
    assert reporter(status=RequestStatus.CONNECTED, count_intakes=False).report(YEAR_2026).reached == 1  # Delta
    every = reporter(status=RequestStatus.NEW).report(YEAR_2026)
    assert (every.reached, every.new, every.reached_to_date) == (5, 4, 5)  # Alpha first asked in 2025
    late = reporter(programme_start=dt.date(2026, 2, 1)).report(YEAR_2026)
    assert (late.reached, late.new) == (3, 3)  # Beta's January intake is before the start


def test_the_goal_on_the_home_page(reporter) -> None:
    goal = reporter(target=10).goal()
    assert (goal.reached, goal.target, goal.percent, goal.as_of) == (4, 10, 40, AFTER)
    assert (goal.timeline[0].start, goal.timeline[-1].start) == (dt.date(2025, 8, 1), dt.date(2026, 7, 1))
    assert [p.cumulative for p in goal.timeline] == [0, 0, 0, 0, 0, 2, 2, 3, 3, 3, 4, 4]


def test_a_merge_counts_two_records_as_one_company(reporter, store: RequestStore, seeded) -> None:
    companies = CompanyStore(store.engine)
    alpha = store.get(seeded.references["r1"]).company_id
    beta = store.get(seeded.references["r3"]).company_id
    companies.merge(beta, alpha, actor="eva")
    report = reporter().report(YEAR_2026)
    assert report.reached == 3
    assert rows(report.forms)["advisor_intake"] == (1, 1)


def test_erasure_keeps_the_counts(reporter, store: RequestStore, seeded) -> None:
    before = reporter().report(YEAR_2026)
    store.erase(email="eva@epsilon.example.org")
    store.erase(email="anna@alpha.example.org")
    after = reporter().report(YEAR_2026)
    assert dataclasses.replace(after, generated_at=before.generated_at) == before


def test_the_report_tables(reporter) -> None:
    tables = {table.name: table for table in reporter().report(YEAR_2026).tables()}
    assert list(tables) == ["about", "indicators", "over_time", "forms_of_support", "sites", "facilities",
                            "requests_by_status", "response_times", "satisfaction"]
    indicators = {row[0]: row[2] for row in tables["indicators"].rows}
    assert indicators["Companies reached"] == 4 and indicators["Target"] == 200
    # Received in 2026 from companies (r3 is an intake, r1 was received in 2025 in Stockholm): first advisor
    # actions after r2 1 h, r4 48 h (assigned), r5 24 h (withdrawn), r6 22 h, r7 1 h; only r6 was handed over,
    # after 104.5 h.
    assert indicators["Median days to first response"] == 0.92  # 22 h
    assert indicators["90th percentile days to first response"] == 1.6  # 24 h + 0.6 x 24 h
    assert indicators["Median days to hand-over"] == indicators["90th percentile days to hand-over"] == 4.35
    assert indicators["Satisfaction (1-5)"] is None  # no follow-up answered (tests/support_requests/test_satisfaction.py)
    assert indicators["Satisfaction answers"] == 0
    responses = {row[0]: row[1:] for row in tables["response_times"].rows}
    assert responses["All requests"] == (None, 5, 5, 0.92, 1.6, 1, 4.35, 4.35)
    assert responses["No entry chosen"] == (None, 1, 1, 0.92, 0.92, 1, 4.35, 4.35)  # r6
    assert responses["Vecura"] == ("vecura-gmp", 1, 1, 0.04, 0.04, 0, None, None)  # r7
    assert responses["gone-entry (no longer in the catalogue)"][1:3] == (1, 1)
    about = dict(tables["about"].rows)
    assert about["From"] == "2026-01-01" and "in progress" in about["Reached"]
    for table in tables.values():
        assert all(len(row) == len(table.columns) for row in table.rows)
