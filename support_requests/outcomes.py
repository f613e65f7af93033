"""What "reached" means, the periods figures are counted over, and the SQL that counts them.

A company is **reached** when one of its requests was acted on by an advisor. :class:`ReachedDefinition` says
what counts as acted on (from the settings, ``docs/outcomes.md``): by default a request that entered
``in_progress`` (an advisor started working with the company; ``connected``, the hand-over to a facility, comes
after it in the workflow), and a request an advisor opened in the console during an intake call, from the moment
it was opened. Every such moment is a **support moment** of the request's company; the figures are counted from
these moments: a company is reached in a period when it has a support moment in the period, it was first reached
at its earliest one, and it counts once however many requests and moments it has.

Days, weeks (Monday to Sunday) and months are those of Europe/Stockholm: a request at 00:30 on New Year's Day in
Stockholm counts in January, although it is still 31 December in UTC.

:class:`OutcomeQueries` does the counting in SQL (grouping and ``DISTINCT`` in the database, using the indexes
on the history's status changes and on the requests' company), and returns small results: one row per company,
or per supported request, never every history row.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Select, case, func, literal, select, union_all

from support_requests.database import translate_database_errors
from support_requests.errors import SupportRequestError
from support_requests.model import RequestStatus
from support_requests.tables import EntryRow, HistoryRow, RequestRow

STOCKHOLM = ZoneInfo("Europe/Stockholm")
"""The time zone of the programme's days, weeks and months."""

INTAKE_CHANNEL = "console"
"""Requests an advisor opens in the console (during an intake call) carry this channel."""

REACHED_STATUSES = (RequestStatus.NEW, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS, RequestStatus.CONNECTED)
"""The workflow's steps in order; "reached" is set at one of them, and entering it or a later one counts."""

DEFAULT_LAB_SPACE_ENTRIES = frozenset({
    "novum-labs-flemingsberg", "a-working-lab-flemingsberg", "awl-innomedicum", "forskaren-hagastaden",
    "ki-science-park-lab-offices", "innovation-station-flemingsberg"})
"""Catalogue entries that offer lab or office space (the catalogue has no field for it)."""


class OutcomeError(SupportRequestError, ValueError):
    """A period or setting of the outcome figures cannot be used; the message says which and why."""


@dataclass(frozen=True)
class ReachedDefinition:
    """What counts as reaching a company, and the goal.

    Attributes:
        status: a request counts from the moment it entered this status or a later one of
            :data:`REACHED_STATUSES` (``new`` counts every request; a request closed or withdrawn before
            reaching it never counts).
        count_intakes: a request opened in the console (an advisor's intake call) counts from its creation.
        target: the number of companies the programme aims to reach.
        programme_start: support moments before this day (Stockholm) are not counted; None: all.
        lab_space_entries: the catalogue entries whose form of support is lab space.
    """

    status: RequestStatus = RequestStatus.IN_PROGRESS
    count_intakes: bool = True
    target: int = 200
    programme_start: dt.date | None = None
    lab_space_entries: frozenset[str] = field(default=DEFAULT_LAB_SPACE_ENTRIES)

    def __post_init__(self) -> None:
        if self.status not in REACHED_STATUSES:
            raise OutcomeError("the reached status must be new, assigned, in_progress or connected")
        if isinstance(self.target, bool) or not isinstance(self.target, int) or self.target < 1:
            raise OutcomeError("the target must be a whole number of companies, at least 1")

    @property
    def qualifying_statuses(self) -> tuple[str, ...]:
        """The status values whose entry is a support moment."""
        return tuple(s.value for s in REACHED_STATUSES[REACHED_STATUSES.index(self.status):])

    @property
    def counted_from(self) -> dt.datetime | None:
        """The start of the programme as a UTC time (midnight in Stockholm), or None."""
        return day_start(self.programme_start) if self.programme_start else None

    def describe(self) -> str:
        """The definition in one sentence, for the report's cover and the pages."""
        steps = {RequestStatus.NEW: "was received",
                 RequestStatus.ASSIGNED: "was assigned to an advisor (or went further)",
                 RequestStatus.IN_PROGRESS: "an advisor started working on (in progress, or connected to a "
                                            "facility)",
                 RequestStatus.CONNECTED: "was connected to a facility"}
        text = f"A company is reached when at least one of its support requests {steps[self.status]}"
        if self.count_intakes and self.status is not RequestStatus.NEW:
            text += ", or an advisor opened a request for it in the console during an intake call"
        text += ". It counts once, however many requests it has"
        if self.programme_start:
            text += f"; support before {self.programme_start.isoformat()} is not counted"
        return text + "."


class SupportForm(str, enum.Enum):
    """A form of support, from a request's channel and chosen entries (a request may have several)."""

    FACILITY = "facility_referral"
    INTAKE = "advisor_intake"
    PROGRAMME = "programme_advice"
    LAB_SPACE = "lab_space"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {SupportForm.FACILITY: "Referral to a facility", SupportForm.INTAKE: "Advisor intake",
                SupportForm.PROGRAMME: "Funding or programme advice", SupportForm.LAB_SPACE: "Lab space",
                SupportForm.OTHER: "Other advice (no entry chosen)"}[self]


def local_day(moment: dt.datetime) -> dt.date:
    """The day in Stockholm of a time-zone-aware ``moment``."""
    return moment.astimezone(STOCKHOLM).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Stockholm at the start of ``day``, as a UTC time."""
    return dt.datetime.combine(day, dt.time(), tzinfo=STOCKHOLM).astimezone(dt.timezone.utc)


class Granularity(str, enum.Enum):
    """How a timeline is divided: calendar months, or ISO weeks (Monday to Sunday), in Stockholm."""

    MONTH = "month"
    WEEK = "week"

    def start_of(self, day: dt.date) -> dt.date:
        """The first day of the month or week holding ``day``."""
        return day.replace(day=1) if self is Granularity.MONTH else day - dt.timedelta(days=day.weekday())

    def next(self, start: dt.date) -> dt.date:
        """The first day of the month or week after the one starting at ``start``."""
        if self is Granularity.WEEK:
            return start + dt.timedelta(weeks=1)
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    def starts(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The first days of the months or weeks from the one holding ``first`` to the one holding ``last``."""
        starts, current = [], self.start_of(first)
        while current <= last:
            starts.append(current)
            current = self.next(current)
        return starts


@dataclass(frozen=True)
class Period:
    """Whole days in Stockholm, ``first`` to ``last`` included.

    Raises:
        OutcomeError: when ``last`` is before ``first``.
    """

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise OutcomeError("the period ends before it starts: --to must be on or after --from")

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        """A period from two ISO dates (``2026-01-01``).

        Raises:
            OutcomeError: naming the date that cannot be read, or for an end before the start.
        """
        return cls(_date("from", first), _date("to", last))

    @property
    def start(self) -> dt.datetime:
        """The period's first moment (UTC)."""
        return day_start(self.first)

    @property
    def end(self) -> dt.datetime:
        """The moment after the period (UTC): midnight in Stockholm after its last day."""
        return day_start(self.last + dt.timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def _date(name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise OutcomeError(f"{name} must be a date such as 2026-01-31") from None


@dataclass(frozen=True)
class SupportedRequest:
    """A request with a support moment in a period: its company, channel and chosen entries."""

    company_id: int
    request_id: int
    channel: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class TimelineCounts:
    """The counts behind a timeline, per bucket (a month or week, in order).

    Attributes:
        reached: per bucket, the companies with a support moment in it (each once).
        new: per bucket, the companies first reached in it (within the period).
        before: the companies first reached before the period's start.
        reached_in_period: the companies with a support moment in the period (each once).
    """

    reached: tuple[int, ...]
    new: tuple[int, ...]
    before: int
    reached_in_period: int


class OutcomeQueries:
    """The counts behind the outcome figures, in the request database.

    Args:
        engine: the request database, migrated.
        definition: what counts as reached.
    """

    def __init__(self, engine: Engine, definition: ReachedDefinition):
        self.engine = engine
        self.definition = definition

    def _moments(self) -> Any:
        """A subquery of support moments: ``request_id``, ``company_id``, ``at`` (UTC), from the programme's start."""
        statuses = (select(RequestRow.id.label("request_id"), RequestRow.company_id.label("company_id"),
                           HistoryRow.at.label("at"))
                    .join(HistoryRow, HistoryRow.request_id == RequestRow.id)
                    .where(HistoryRow.field == "status", HistoryRow.new_value.in_(self.definition.qualifying_statuses),
                           RequestRow.company_id.is_not(None)))
        parts: list[Select[Any]] = [statuses]
        if self.definition.count_intakes and self.definition.status is not RequestStatus.NEW:
            parts.append(select(RequestRow.id, RequestRow.company_id, RequestRow.created_at)
                         .where(RequestRow.channel == INTAKE_CHANNEL, RequestRow.company_id.is_not(None)))
        moments = union_all(*parts).subquery("moments") if len(parts) > 1 else statuses.subquery("moments")
        return moments

    def _within(self, query: Select[Any], moments: Any, start: dt.datetime | None,
                end: dt.datetime | None) -> Select[Any]:
        since = self.definition.counted_from
        if start is None or (since is not None and since > start):
            start = since
        if start is not None:
            query = query.where(moments.c.at >= start)
        if end is not None:
            query = query.where(moments.c.at < end)
        return query

    def first_reached(self, end: dt.datetime | None = None) -> list[tuple[int, dt.datetime]]:
        """When each company was first reached (before ``end``, if given): ``(company_id, time)``, by company id."""
        moments = self._moments()
        query = self._within(select(moments.c.company_id, func.min(moments.c.at).label("first")), moments,
                             None, end).group_by(moments.c.company_id).order_by(moments.c.company_id)
        return [(row.company_id, _utc(row.first)) for row in self._rows(query)]

    def reached_count(self, end: dt.datetime | None = None) -> int:
        """How many companies were reached (before ``end``, if given)."""
        moments = self._moments()
        query = self._within(select(func.count(func.distinct(moments.c.company_id))), moments, None, end)
        return int(self._rows(query)[0][0])

    def moments(self, start: dt.datetime, end: dt.datetime) -> list[tuple[int, dt.datetime]]:
        """Every support moment in ``[start, end)``: ``(company_id, time)``, duplicates removed."""
        moments = self._moments()
        query = self._within(select(moments.c.company_id, moments.c.at).distinct(), moments, start, end)
        return [(row.company_id, _utc(row.at)) for row in self._rows(query)]

    def timeline_counts(self, boundaries: Sequence[dt.datetime], start: dt.datetime,
                        end: dt.datetime) -> TimelineCounts:
        """The companies reached per bucket and first reached per bucket, counted in SQL (a few rows back, whatever
        the history's size).

        Args:
            boundaries: the buckets' first moments (UTC), ascending; bucket ``i`` runs from ``boundaries[i]`` to
                ``boundaries[i + 1]`` (the last to ``end``), and the first holds ``start``.
            start, end: the support moments counted are those in ``[start, end)``, the first times those before
                ``end``.

        Returns:
            The counts; a company first reached at ``t`` in ``[start, end)`` is new in the bucket holding ``t``.
        """
        if not boundaries:
            raise OutcomeError("a timeline needs at least one month or week")

        def bucket(column: Any) -> Any:
            if len(boundaries) == 1:
                return literal(0)
            return case(*[(column < boundary, index) for index, boundary in enumerate(boundaries[1:])],
                        else_=len(boundaries) - 1)

        moments = self._moments()
        in_period = self._within(select(bucket(moments.c.at).label("bucket"), moments.c.company_id), moments,
                                 start, end).subquery("in_period")
        reached_query = (select(in_period.c.bucket, func.count(func.distinct(in_period.c.company_id)))
                         .group_by(in_period.c.bucket))
        total_query = select(func.count(func.distinct(in_period.c.company_id)))
        earlier = self._moments()
        firsts = self._within(select(earlier.c.company_id, func.min(earlier.c.at).label("first")), earlier, None,
                              end).group_by(earlier.c.company_id).subquery("firsts")
        # one pass over the first times: bucket -1 holds those before the period
        new_buckets = select(case((firsts.c.first < start, -1), else_=bucket(firsts.c.first)).label("bucket")
                             ).subquery("new")
        new_query = select(new_buckets.c.bucket, func.count()).group_by(new_buckets.c.bucket)
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            reached = dict(connection.execute(reached_query).all())
            new = dict(connection.execute(new_query).all())
            total = connection.execute(total_query).scalar_one()
        before = new.get(-1, 0)
        return TimelineCounts(reached=tuple(int(reached.get(i, 0)) for i in range(len(boundaries))),
                              new=tuple(int(new.get(i, 0)) for i in range(len(boundaries))),
                              before=int(before), reached_in_period=int(total))

    def supported_requests(self, start: dt.datetime, end: dt.datetime) -> list[SupportedRequest]:
        """The requests with a support moment in ``[start, end)``, with their chosen entries, by request id."""
        moments = self._moments()
        ids = self._within(select(moments.c.request_id).distinct(), moments, start, end).subquery("supported")
        query = (select(RequestRow.id, RequestRow.company_id, RequestRow.channel, EntryRow.entry_id)
                 .join(ids, ids.c.request_id == RequestRow.id)
                 .join(EntryRow, EntryRow.request_id == RequestRow.id, isouter=True)
                 .order_by(RequestRow.id, EntryRow.position))
        found: dict[int, tuple[int, str, list[str]]] = {}
        for row in self._rows(query):
            entries = found.setdefault(row.id, (row.company_id, row.channel, []))[2]
            if row.entry_id is not None:
                entries.append(row.entry_id)
        return [SupportedRequest(company_id=company, request_id=request_id, channel=channel,
                                 entry_ids=tuple(entries)) for request_id, (company, channel, entries) in found.items()]

    def requests_by_status(self, start: dt.datetime, end: dt.datetime) -> dict[RequestStatus, int]:
        """Requests received in ``[start, end)``, by their status now (every status, 0 when none)."""
        query = (select(RequestRow.status, func.count()).where(RequestRow.created_at >= start,
                                                                RequestRow.created_at < end)
                 .group_by(RequestRow.status))
        counts = {status: 0 for status in RequestStatus}
        for status, count in self._rows(query):
            counts[RequestStatus(status)] = int(count)
        return counts

    def _rows(self, query: Select[Any]) -> Sequence[Any]:
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return connection.execute(query).all()


def _utc(value: dt.datetime | str) -> dt.datetime:
    """A time read from a union or an aggregate: SQLite may give naive UTC (or its text), PostgreSQL an aware time."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
