"""The outcome pages' benchmark (tests/web/bench_outcomes.py) at a small size, so that its code keeps working: the
seeded history is what the store itself would hold, and every page answers with its own content. No timing is
asserted here; ``make bench`` measures."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from support_requests.store import RequestStore
from support_requests.tables import CompanyRow, HistoryRow, RequestRow
from tests.web.bench_outcomes import markdown, measure, pages
from tests.web.large_history import NOW, HistorySize, seed_history

SMALL = HistorySize(companies=30, requests=120, conversations=300)


def test_the_seeded_history_is_the_stores_own(tmp_path: Path) -> None:
    store = RequestStore.from_url(f"sqlite:///{tmp_path / 'requests.db'}")
    try:
        seeded = seed_history(store.engine, f"sqlite:///{tmp_path / 'tracker.db'}", ["a", "b", "c", "d"],
                              size=SMALL)
        assert (seeded.companies, seeded.requests, seeded.conversations) == (30, 120, 300)
        assert seeded.events > 300 * 3
        with store.engine.connect() as connection:
            companies_used = connection.scalar(select(func.count(func.distinct(RequestRow.company_id))))
            merged_in_use = connection.scalar(select(func.count()).select_from(RequestRow).join(
                CompanyRow, CompanyRow.id == RequestRow.company_id).where(CompanyRow.merged_into_id.is_not(None)))
            latest = connection.execute(select(HistoryRow.request_id, HistoryRow.new_value)
                                        .where(HistoryRow.field == "status").order_by(HistoryRow.at, HistoryRow.id)
                                        ).all()
            ids = dict(connection.execute(select(RequestRow.reference, RequestRow.id)).all())
        assert companies_used == seeded.companies - seeded.merged_companies and merged_in_use == 0
        last_status = dict(latest)  # the last status change of each request
        for item in store.list():  # read back through the store: every row is a valid request
            assert last_status[ids[item.reference]] == item.status.value
            assert item.created_at < NOW and item.history[0].field == "status"
            assert (item.status.value in ("closed", "withdrawn")) == (item.closed_at is not None)
    finally:
        store.close()


def test_every_page_answers_with_its_content(tmp_path: Path) -> None:
    # measure() raises when a page answers other than 200 or without its content (such as an unread funnel)
    seeded, _, timings = measure(f"sqlite:///{tmp_path / 'requests.db'}", f"sqlite:///{tmp_path / 'tracker.db'}",
                                 tmp_path, size=SMALL, repeats=1)
    assert [t.page.label for t in timings] == [p.label for p in pages(1, "x", 1)]
    assert all(len(t.times_ms) == 1 and t.size > 0 for t in timings)
    table = markdown("SQLite", seeded, 1.0, timings, 1)
    assert table.count("\n| ") == len(timings) + 1
