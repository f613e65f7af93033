"""The satisfaction figures on the seeded answers with known figures (tests/support_requests/satisfaction_history.py),
and against a brute-force count from the tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from support_requests.follow_up import FollowUpLinks, FollowUpPolicy, derive_link_key
from support_requests.model import ERASED_MARKER
from support_requests.outcomes import Period
from support_requests.response_times import NO_ENTRY
from support_requests.satisfaction import ALL, SatisfactionQueries, SatisfactionRow
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock
from tests.support_requests.satisfaction_history import XSS_COMMENT, Answers, answers_in_sql, seed_answers

YEAR_2026 = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
Q1_2026 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))


@pytest.fixture
def store(open_store: Callable[..., RequestStore]) -> RequestStore:
    links = FollowUpLinks(derive_link_key(b"satisfaction-tests"))
    return open_store(follow_up=FollowUpPolicy(links=links, public_url="https://navigator.example.org"))


@pytest.fixture
def seeded(store: RequestStore, clock: FakeClock) -> Answers:
    return seed_answers(store, clock)


@pytest.fixture
def queries(store: RequestStore, seeded: Answers) -> SatisfactionQueries:
    return SatisfactionQueries(store.engine)


def by_key(rows) -> dict[str, tuple[int, ...]]:
    return {row.key: row.counts for row in rows}


def test_the_year_has_its_known_answers(queries: SatisfactionQueries) -> None:
    year = queries.summary(YEAR_2026.start, YEAR_2026.end)
    assert year.overall == SatisfactionRow(ALL, (1, 1, 1, 1, 1))
    assert (year.overall.answers, year.overall.mean, year.overall.satisfied_share) == (5, 3.0, 0.4)
    assert year.queued == 5  # s1 to s5; s7's email was due in 2025, s6 was never worked on
    assert by_key(year.by_entry) == {"vecura-gmp": (0, 1, 0, 0, 1), "almi-loans": (1, 0, 0, 0, 1),
                                     "flow-biomedicum": (0, 0, 1, 0, 0), NO_ENTRY: (0, 0, 0, 1, 0)}
    assert [row.key for row in year.by_entry] == ["almi-loans", "vecura-gmp", NO_ENTRY, "flow-biomedicum"]
    vecura = year.by_entry[1]
    assert (vecura.mean, vecura.satisfied, vecura.satisfied_share) == (3.5, 1, 0.5)


def test_answers_count_on_stockholms_days(queries: SatisfactionQueries) -> None:
    first_quarter = queries.summary(Q1_2026.start, Q1_2026.end)
    assert first_quarter.overall.counts == (1, 0, 0, 0, 1)  # s7 on New Year's Day, s1; s2 is on 1 April
    april = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert queries.summary(april.start, april.end).overall.counts == (0, 1, 0, 1, 0)
    new_years_eve = Period(dt.date(2025, 12, 31), dt.date(2025, 12, 31))
    eve = queries.summary(new_years_eve.start, new_years_eve.end)
    assert (eve.overall.answers, eve.queued) == (0, 1)


def test_an_empty_period(queries: SatisfactionQueries) -> None:
    empty = Period(dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    summary = queries.summary(empty.start, empty.end)
    assert (summary.overall.answers, summary.overall.mean, summary.overall.satisfied_share) == (0, None, None)
    assert summary.by_entry == () and summary.queued == 0


def test_the_comments_are_for_the_advisors_without_the_erased(queries: SatisfactionQueries, seeded: Answers) -> None:
    comments = queries.comments(YEAR_2026.start, YEAR_2026.end)
    assert [(c.reference, c.score, c.comment, c.entry_ids) for c in comments] == [
        (seeded.references["s3"], 4, "Good", ()),
        (seeded.references["s1"], 5, XSS_COMMENT, ("vecura-gmp", "almi-loans")),
        (seeded.references["s7"], 1, "Nobody called me back", ("almi-loans",))]
    assert len(queries.comments(YEAR_2026.start, YEAR_2026.end, limit=1)) == 1


def test_one_requests_follow_up(queries: SatisfactionQueries, seeded: Answers) -> None:
    erased = queries.for_request(seeded.references["s4"])
    assert (erased.score, erased.comment) == (3, ERASED_MARKER)
    waiting = queries.for_request(seeded.references["s5"])
    assert (waiting.answered_at, waiting.score, waiting.comment) == (None, None, None)
    assert waiting.expires_at - waiting.due_at == dt.timedelta(days=60)
    assert queries.for_request(seeded.references["s6"]) is None


@pytest.mark.parametrize("period", [YEAR_2026, Q1_2026, Period(dt.date(2025, 1, 1), dt.date(2026, 2, 3)),
                                    Period(dt.date(2026, 4, 1), dt.date(2026, 5, 2)),
                                    Period(dt.date(2026, 2, 4), dt.date(2026, 3, 31))])
def test_the_figures_match_a_brute_force_count(store: RequestStore, queries: SatisfactionQueries,
                                               period: Period) -> None:
    summary = queries.summary(period.start, period.end)
    found = by_key(summary.by_entry)
    if summary.overall.answers:
        found[ALL] = summary.overall.counts
    assert found == answers_in_sql(store.engine, period.start, period.end)
