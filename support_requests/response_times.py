"""How fast advisors answer: response times per facility and per advisor, and the requests waiting too long.

Two times are measured for each request received from a company (not the requests advisors open themselves in
the console: the company was already talking to an advisor), from the moment it was stored:

- **first advisor action**: the earliest change an advisor made to it: an assignment, a status change or a note
  (the request's history, fields ``assignee``, ``status`` and ``note``; the history row that records its creation
  and the erasure of personal data do not count);
- **hand-over to the facility contact**: the moment it entered ``connected`` ("handed to the facility").

Times are elapsed time (hours, as the clock runs, nights and holidays included). A request without the action yet
is not in the times but is counted as still open, so a slow week does not look fast by leaving out the requests
that are still waiting. Medians and 90th percentiles interpolate between the two nearest values (as PostgreSQL's
``percentile_cont``).

A request **waits** while it is ``new`` or ``assigned`` (no advisor has started working with the company);
it is **waiting too long** when more working days (:mod:`support_requests.working_days`) than the threshold have
passed since the day it was received (Stockholm).

:class:`ResponseQueries` reads one row per request (and per chosen entry) with its two times, aggregated per
request in SQL from the history; the percentiles are computed from those rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, case, func, select

from support_requests.database import translate_database_errors
from support_requests.model import RequestStatus
from support_requests.outcomes import INTAKE_CHANNEL, day_start, local_day
from support_requests.tables import EntryRow, HistoryRow, RequestRow
from support_requests.working_days import latest_day_waiting_over, working_days_after

WAITING_STATUSES = (RequestStatus.NEW, RequestStatus.ASSIGNED)
"""A request in one of these has not yet been taken in progress: the company is still waiting."""

UNASSIGNED = "(unassigned)"
"""The advisor row of requests nobody is assigned to."""

NO_ENTRY = "(no entry chosen)"
"""The facility row of requests without a chosen entry."""


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` (0 to 1) percentile of ``values``, interpolated linearly between the nearest ranks
    (PostgreSQL's ``percentile_cont``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Durations:
    """The response times of a group of requests, in hours.

    Attributes:
        requests: requests in the group.
        measured: of them, those that have had the action (the times are theirs).
        median, p90: the median and 90th percentile time in hours, None when none was measured.
    """

    requests: int
    measured: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, requests: int, hours: Sequence[float]) -> Durations:
        return cls(requests=requests, measured=len(hours), median=percentile(hours, 0.5),
                   p90=percentile(hours, 0.9))


@dataclass(frozen=True)
class ResponseRow:
    """One group's times: to the first advisor action, and to the hand-over to the facility contact."""

    key: str
    first_action: Durations
    handover: Durations


@dataclass(frozen=True)
class ResponseTimes:
    """The response times of the requests received in a period: all of them, per chosen entry (a request with
    two entries counts under both), and per advisor assigned now."""

    overall: ResponseRow
    by_entry: tuple[ResponseRow, ...]
    by_advisor: tuple[ResponseRow, ...]


@dataclass(frozen=True)
class RequestTimes:
    """One request's times (UTC); None for an action that has not happened."""

    request_id: int
    assignee: str | None
    created_at: dt.datetime
    first_action_at: dt.datetime | None
    handover_at: dt.datetime | None
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class WaitingRequest:
    """A request waiting longer than the threshold: its reference, status, advisor, and working days waited."""

    reference: str
    status: RequestStatus
    assignee: str | None
    created_at: dt.datetime
    working_days: int


@dataclass(frozen=True)
class WaitingList:
    """The requests waiting more than ``threshold`` working days: ``total`` of them, the oldest ``requests``."""

    threshold: int
    total: int
    requests: tuple[WaitingRequest, ...]


def waits_too_long(status: RequestStatus, created_at: dt.datetime, now: dt.datetime, working_days: int) -> bool:
    """True when a request in ``status``, received at ``created_at``, has waited more than ``working_days``
    working days at ``now`` (the same rule as :meth:`ResponseQueries.waiting`, for one request)."""
    return status in WAITING_STATUSES and working_days_after(local_day(created_at), local_day(now)) > working_days


def waiting_cutoff(now: dt.datetime, working_days: int) -> dt.datetime:
    """The first creation time (UTC) of a request that has *not* waited more than ``working_days`` working days at
    ``now``: a request still waiting (:data:`WAITING_STATUSES`) waits too long exactly when it was received before
    it (midnight in Stockholm after the last day of receipt that waits too long)."""
    return day_start(latest_day_waiting_over(local_day(now), working_days) + dt.timedelta(days=1))


def _hours(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def summarise(requests: Iterable[RequestTimes]) -> ResponseTimes:
    """Group request times into the overall row, one row per entry (by entry id) and one per advisor (by name,
    :data:`UNASSIGNED` last)."""
    rows = list(requests)

    def row(key: str, group: list[RequestTimes]) -> ResponseRow:
        first = [h for r in group if (h := _hours(r.created_at, r.first_action_at)) is not None]
        handed = [h for r in group if (h := _hours(r.created_at, r.handover_at)) is not None]
        return ResponseRow(key, Durations.of(len(group), first), Durations.of(len(group), handed))

    by_entry: dict[str, list[RequestTimes]] = defaultdict(list)
    by_advisor: dict[str, list[RequestTimes]] = defaultdict(list)
    for request in rows:
        for entry_id in request.entry_ids or (NO_ENTRY,):
            by_entry[entry_id].append(request)
        by_advisor[request.assignee or UNASSIGNED].append(request)
    return ResponseTimes(
        overall=row("all", rows),
        by_entry=tuple(row(key, by_entry[key]) for key in sorted(by_entry, key=lambda k: (k == NO_ENTRY, k))),
        by_advisor=tuple(row(key, by_advisor[key])
                         for key in sorted(by_advisor, key=lambda k: (k == UNASSIGNED, k))))


class ResponseQueries:
    """The request times behind the response figures, and the requests waiting too long.

    Args:
        engine: the request database, migrated.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    def request_times(self, start: dt.datetime, end: dt.datetime) -> list[RequestTimes]:
        """The companies' requests received in ``[start, end)`` (not console intakes), each with its first advisor
        action and hand-over times, by request id. Two queries (the requests with their times, and their chosen
        entries); the history is aggregated per request in SQL."""
        acted = case((and_(HistoryRow.field == "status", HistoryRow.old_value.is_not(None)), HistoryRow.at),
                     (HistoryRow.field.in_(("assignee", "note")), HistoryRow.at))
        handed = case((and_(HistoryRow.field == "status", HistoryRow.new_value == RequestStatus.CONNECTED.value),
                       HistoryRow.at))
        # One row per request: the period's requests come from the index on created_at, and each one's history
        # from the index on request_id (correlated sub-queries), never a scan of the whole history.
        first_action = (select(func.min(acted)).where(HistoryRow.request_id == RequestRow.id)
                        .correlate(RequestRow).scalar_subquery())
        handover = (select(func.min(handed)).where(HistoryRow.request_id == RequestRow.id)
                    .correlate(RequestRow).scalar_subquery())
        query = (select(RequestRow.id, RequestRow.assignee, RequestRow.created_at,
                        first_action.label("first_action"), handover.label("handover"))
                 .where(RequestRow.created_at >= start, RequestRow.created_at < end,
                        RequestRow.channel != INTAKE_CHANNEL)
                 .order_by(RequestRow.id))
        received = (select(RequestRow.id).where(RequestRow.created_at >= start, RequestRow.created_at < end,
                                                RequestRow.channel != INTAKE_CHANNEL).subquery("received"))
        chosen = (select(EntryRow.request_id, EntryRow.entry_id).join(received, received.c.id == EntryRow.request_id)
                  .order_by(EntryRow.request_id, EntryRow.position))
        entries: dict[int, list[str]] = defaultdict(list)
        for request_id, entry_id in self._rows(chosen):
            entries[request_id].append(entry_id)
        return [RequestTimes(request_id=r.id, assignee=r.assignee, created_at=_utc(r.created_at),
                             first_action_at=_utc(r.first_action), handover_at=_utc(r.handover),
                             entry_ids=tuple(entries.get(r.id, ())))
                for r in self._rows(query)]

    def waiting(self, now: dt.datetime, working_days: int, limit: int | None = None) -> list[WaitingRequest]:
        """The requests ``new`` or ``assigned`` at ``now`` that have waited more than ``working_days`` working
        days since the day (Stockholm) they were received, oldest first (ties by reference); at most ``limit``."""
        today = local_day(now)
        cutoff = waiting_cutoff(now, working_days)
        query = (select(RequestRow.reference, RequestRow.status, RequestRow.assignee, RequestRow.created_at)
                 .where(RequestRow.status.in_(WAITING_STATUSES), RequestRow.created_at < cutoff)
                 .order_by(RequestRow.created_at, RequestRow.reference))
        if limit is not None:
            query = query.limit(limit)
        return [WaitingRequest(reference=r.reference, status=RequestStatus(r.status), assignee=r.assignee,
                               created_at=_utc(r.created_at),
                               working_days=working_days_after(local_day(_utc(r.created_at)), today))
                for r in self._rows(query)]

    def waiting_count(self, now: dt.datetime, working_days: int) -> int:
        """How many requests :meth:`waiting` would list without a limit."""
        cutoff = waiting_cutoff(now, working_days)
        query = select(func.count()).where(RequestRow.status.in_(WAITING_STATUSES), RequestRow.created_at < cutoff)
        return int(self._rows(query)[0][0])

    def _rows(self, query: Any) -> Sequence[Any]:
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return connection.execute(query).all()


def _utc(value: dt.datetime | str | None) -> Any:
    """A time read from an aggregate: SQLite gives naive UTC text, PostgreSQL an aware time."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

