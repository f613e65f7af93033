"""Running a job once per period however many replicas of the service run (see support_requests/schedule.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from support_requests.errors import SupportRequestError
from support_requests.schedule import RunLedger

log = logging.getLogger(__name__)


async def run_each_period(ledger: RunLedger, job: str, period: dt.timedelta, work: Callable[[], Awaitable[None]], *,
                          check_every: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Every ``check_every`` seconds, claim ``job`` in the ledger and run ``work`` when this replica got the claim;
    runs until cancelled. A failure of the database or of ``work`` is logged and tried again at the next check
    after the period (the claim is already spent), so that a bad run does not repeat at every check.
    """
    while True:
        try:
            if await asyncio.to_thread(ledger.claim, job, period):
                await work()
        except SupportRequestError as error:
            log.error("%s run failed: %s", job, error)
        await sleep(check_every)
