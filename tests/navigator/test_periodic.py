"""Periodic jobs across replicas (navigator/periodic.py): replicas that all check often run the job once a period."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from navigator.periodic import run_each_period
from support_requests.errors import StoreUnavailableError
from support_requests.schedule import RunLedger
from support_requests.store import RequestStore

PERIOD = dt.timedelta(hours=6)
CHECK_EVERY = 300.0


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 3, 4, 5, 6, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def test_three_replicas_checking_every_five_minutes_run_the_job_once_every_six_hours(
        request_db_url: str) -> None:
    clock = FakeClock()
    start = clock.now
    stores = [RequestStore.from_url(request_db_url) for _ in range(3)]
    runs: list[tuple[int, dt.datetime]] = []
    checks = 0
    stop_at = start + dt.timedelta(hours=23)  # away from a period's boundary

    async def sleep(seconds: float) -> None:
        # The replicas take turns; each full round of checks moves the clock on by the check interval.
        nonlocal checks
        checks += 1
        if checks % len(stores) == 0:
            clock.now += dt.timedelta(seconds=seconds)
        if clock.now >= stop_at:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    def replica(number: int, store: RequestStore):
        async def work() -> None:
            runs.append((number, clock.now))
        return run_each_period(RunLedger(store.engine, clock=clock), "retention", PERIOD, work,
                               check_every=CHECK_EVERY, sleep=sleep)

    try:
        results = await asyncio.gather(*(replica(n, s) for n, s in enumerate(stores)), return_exceptions=True)
    finally:
        for store in stores:
            store.close()
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    # Once at start, then every six hours: at 0, 6, 12 and 18 hours, never twice in a period.
    assert [when for _, when in runs] == [start + PERIOD * i for i in range(4)]


async def test_a_failed_run_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture,
                                                           request_db_url: str) -> None:
    clock = FakeClock()
    store = RequestStore.from_url(request_db_url)
    attempts = 0

    async def work() -> None:
        nonlocal attempts
        attempts += 1
        raise StoreUnavailableError("the request database cannot be used: connection refused")

    async def sleep(seconds: float) -> None:
        clock.now += PERIOD
        if attempts >= 2:
            raise asyncio.CancelledError

    try:
        with pytest.raises(asyncio.CancelledError):
            await run_each_period(RunLedger(store.engine, clock=clock), "retention", PERIOD, work,
                                  check_every=CHECK_EVERY, sleep=sleep)
    finally:
        store.close()
    assert attempts == 2
    assert caplog.text.count("retention run failed: the request database cannot be used") == 2
