"""Swedish working days, for flagging requests that have waited too long.

A **working day** is a Monday to Friday that is neither a Swedish public holiday nor one of the three eves that
Swedish working-time law treats as Sundays (Midsummer Eve, Christmas Eve and New Year's Eve). The holidays come
from the maintained ``holidays`` package (``holidays.Sweden``, categories ``public`` and ``de_facto``), so the
moving feasts (Easter, Ascension Day, Midsummer, All Saints' Day) need no table of our own.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

WORKING_DAY_CATEGORIES = ("public", "de_facto")
"""The ``holidays.Sweden`` categories that are days off: public holidays, and the eves treated as Sundays."""


@lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.Sweden(years=year, categories=WORKING_DAY_CATEGORIES))


def is_working_day(day: dt.date) -> bool:
    """True for a Monday to Friday that is not a Swedish public holiday, Midsummer Eve, Christmas Eve or New
    Year's Eve."""
    return day.weekday() < 5 and day not in _days_off(day.year)


def working_days_after(start: dt.date, end: dt.date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 when ``end`` is not after
    ``start``): a request received on Thursday has waited 1 working day on Friday and 1 still on Sunday."""
    count, day = 0, start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


def latest_day_waiting_over(today: dt.date, working_days: int) -> dt.date:
    """The last day a request may have been received on to have waited more than ``working_days`` working days
    by ``today``: every request received on it or before has, every one received after it has not."""
    day, counted = today, 0
    while True:
        if is_working_day(day):
            counted += 1
        day -= dt.timedelta(days=1)
        if counted > working_days:
            return day
