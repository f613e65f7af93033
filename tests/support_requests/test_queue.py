"""The queue's pages counted and cut in the database (support_requests/queue.py) against a brute-force reference:
every request listed by the store, sorted newest first, filtered and cut in Python, as the console did before.
Runs on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from support_requests.model import RequestStatus, SupportRequest
from support_requests.queue import QueueQuery, RequestQueue
from support_requests.store import RequestStore
from tests.support_requests.helpers import START, FakeClock

ADVISORS = ("eva", "olle", "sara")


@pytest.fixture
def history(store: RequestStore, draft, clock: FakeClock) -> list[SupportRequest]:
    """37 requests over three weeks with random statuses and advisors (some at the same moment)."""
    rng = random.Random(7)
    references = []
    for number in range(37):
        references.append(store.create(draft(company_name=f"Company {number} AB", org_number=None), f"q-{number}")
                          .reference)
        if number % 5 != 4:  # every fifth shares its moment with the next
            clock.advance(hours=rng.choice((1, 5, 13, 30)))
    for reference in references:
        path = rng.random()
        if path < 0.6:
            store.assign(reference, rng.choice(ADVISORS), actor="eva")
        if 0.3 < path < 0.6:
            store.set_status(reference, RequestStatus.IN_PROGRESS, actor="eva")
        elif path > 0.85:
            store.set_status(reference, RequestStatus.CLOSED, actor="eva")
    return store.list()


def reference_page(requests: list[SupportRequest], query: QueueQuery, page: int, size: int):
    """The page as the console cut it before: every request, sorted and filtered in Python."""
    ordered = sorted(requests, key=lambda r: (r.created_at, r.reference), reverse=True)
    scope = [r for r in ordered
             if (query.statuses is None or r.status in query.statuses)
             and (query.created_from is None or r.created_at >= query.created_from)
             and (query.created_before is None or r.created_at < query.created_before)]
    if query.unassigned:
        matching = [r for r in scope if r.assignee is None]
    elif query.assignee is not None:
        matching = [r for r in scope if r.assignee == query.assignee]
    else:
        matching = scope
    pages = max(1, -(-len(matching) // size))
    shown = min(max(page, 1), pages)
    return (matching[(shown - 1) * size: shown * size], len(matching), shown, pages,
            sorted({r.assignee for r in scope if r.assignee}))


QUERIES = [
    QueueQuery(),
    QueueQuery(statuses=[RequestStatus.ASSIGNED]),
    QueueQuery(statuses=[RequestStatus.NEW, RequestStatus.ASSIGNED]),
    QueueQuery(assignee="olle"),
    QueueQuery(unassigned=True),
    QueueQuery(statuses=[RequestStatus.IN_PROGRESS], assignee="eva"),
    QueueQuery(created_from=START + dt.timedelta(days=3), created_before=START + dt.timedelta(days=10)),
    QueueQuery(statuses=[RequestStatus.NEW, RequestStatus.ASSIGNED], created_before=START + dt.timedelta(days=6),
               unassigned=True),
    QueueQuery(assignee="nobody-has-this"),
]


@pytest.mark.parametrize("query", QUERIES)
def test_every_page_is_the_brute_force_page(store: RequestStore, history, query: QueueQuery) -> None:
    queue = RequestQueue(store.engine)
    for page, size in [(1, 5), (2, 5), (4, 7), (99, 6), (0, 50), (1, 1)]:
        found = queue.page(query, page, size)
        requests, total, shown, pages, assignees = reference_page(history, query, page, size)
        assert [r.reference for r in found.requests] == [r.reference for r in requests]
        assert list(found.requests) == requests  # whole requests: entries, notes and history
        assert (found.total, found.page, found.pages, list(found.assignees)) == (total, shown, pages, assignees)
    assert queue.all(query) == reference_page(history, query, 1, 1000)[0]  # the CSV export


def test_a_page_needs_a_size(store: RequestStore) -> None:
    with pytest.raises(ValueError, match="page_size"):
        RequestQueue(store.engine).page(QueueQuery(), 1, 0)
