"""Parallel submissions: distinct keys give distinct requests and references; one key gives one request.

Threads are split over two stores (two engines, two connection pools), as two
processes of the assistant would be.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from support_requests.model import SupportRequest
from support_requests.tables import OutboxRow, RequestRow


def run_in_parallel(count: int, submit) -> list[SupportRequest]:
    start = threading.Barrier(count)

    def task(i: int) -> SupportRequest:
        start.wait(timeout=30)
        return submit(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_fifty_parallel_submissions_get_fifty_distinct_references(open_store, draft) -> None:
    stores = [open_store(), open_store()]
    results = run_in_parallel(50, lambda i: stores[i % 2].create(
        draft(company_name=f"Company {i}", conversation_id=f"conv-{i}"), idempotency_key=f"form-{i}"))
    references = sorted(r.reference for r in results)
    assert len(set(references)) == 50
    assert references == [f"SLT-2026-{n:04d}" for n in range(1, 51)]  # no gaps, no repeats
    assert {r.company_name for r in results} == {f"Company {i}" for i in range(50)}
    with stores[0].engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RequestRow)).scalar_one() == 50
        assert connection.execute(select(func.count()).select_from(OutboxRow)).scalar_one() == 100
    assert len(stores[1].list()) == 50


def test_the_same_key_ten_times_in_parallel_creates_one_request(open_store, draft) -> None:
    stores = [open_store(), open_store()]
    results = run_in_parallel(10, lambda i: stores[i % 2].create(draft(), idempotency_key="form-same"))
    assert {r.reference for r in results} == {"SLT-2026-0001"}
    assert len({r for r in results}) == 1  # every caller got the very same request back
    with stores[0].engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RequestRow)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(OutboxRow)).scalar_one() == 2
    assert stores[1].create(draft(), "form-next").reference == "SLT-2026-0002"


def test_parallel_status_changes_do_not_lose_history(open_store, draft) -> None:
    stores = [open_store(), open_store()]
    reference = stores[0].create(draft(), "form-1").reference
    run_in_parallel(10, lambda i: stores[i % 2].add_note(reference, f"advisor-{i}", f"note from {i}"))
    notes = stores[0].get(reference).notes
    assert sorted(n.number for n in notes) == list(range(1, 11))
    assert {n.text for n in notes} == {f"note from {i}" for i in range(10)}
