"""Periodic jobs once per period across replicas (support_requests/schedule.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from support_requests.schedule import RunLedger
from support_requests.store import RequestStore

PERIOD = dt.timedelta(hours=6)


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 3, 4, 5, 6, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_job_runs_once_per_period(request_db_url: str) -> None:
    store, clock = RequestStore.from_url(request_db_url), FakeClock()
    ledger = RunLedger(store.engine, clock=clock)
    try:
        assert ledger.claim("retention", PERIOD) is True
        assert ledger.claim("retention", PERIOD) is False
        assert ledger.claim("digest", PERIOD) is True  # another job has a period of its own
        clock.now += PERIOD - dt.timedelta(seconds=1)
        assert ledger.claim("retention", PERIOD) is False
        clock.now += dt.timedelta(seconds=1)
        assert ledger.claim("retention", PERIOD) is True
        assert ledger.claim("retention", PERIOD) is False
    finally:
        store.close()


def test_replicas_racing_for_a_due_job_run_it_once(request_db_url: str) -> None:
    clock = FakeClock()
    stores = [RequestStore.from_url(request_db_url) for _ in range(4)]  # four replicas, one database
    ledgers = [RunLedger(store.engine, clock=clock) for store in stores]
    try:
        for period_number in range(3):
            with ThreadPoolExecutor(max_workers=8) as pool:
                claims = list(pool.map(lambda ledger: ledger.claim("retention", PERIOD), ledgers * 2))
            assert claims.count(True) == 1, (period_number, claims)
            clock.now += PERIOD
    finally:
        for store in stores:
            store.close()
