"""The programme's outcome figures: companies reached against the target, over time, and broken down by form of
support, site and catalogue entry; and the funder's report of a period, as tables.

:class:`OutcomeReporter` asks :class:`~support_requests.outcomes.OutcomeQueries` for the counts and the catalogue
(``entry``, the engine's or the loaded catalogue's look-up) for what each chosen entry is. Every figure counts
companies once (a company with three requests for two facilities is one company, counted once under each of
the two); the sub-counts of a breakdown may therefore add up to more than the total, as the funder's counting
rules allow. The definitions: ``docs/outcomes.md``.

:meth:`OutcomeReport.tables` is the one list of tables that the XLSX and CSV files
(:mod:`support_requests.outcome_files`) and the console's page show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from index.catalogue import Entry, EntryType, Site
from support_requests.follow_up_answers import SCORES
from support_requests.model import RequestStatus, utc_now
from support_requests.outcomes import (
    INTAKE_CHANNEL,
    STOCKHOLM,
    Granularity,
    OutcomeQueries,
    Period,
    ReachedDefinition,
    SupportedRequest,
    SupportForm,
    TimelineCounts,
    day_start,
    local_day,
)
from support_requests.response_times import (
    NO_ENTRY,
    ResponseQueries,
    ResponseRow,
    ResponseTimes,
    WaitingList,
    summarise,
)
from support_requests.satisfaction import ALL as ALL_ANSWERS
from support_requests.satisfaction import Satisfaction, SatisfactionQueries, SatisfactionRow

GOAL_MONTHS = 12
"""The home page's chart shows the last this many months."""

HOME_WAITING = 10
"""The home page lists at most this many of the requests waiting too long, oldest first."""

UNKNOWN_SITE = "unknown"
"""The site of an entry no longer in the catalogue."""


def days(hours: float | None) -> float | None:
    """Hours as days, to two decimals (None stays None)."""
    return None if hours is None else round(hours / 24, 2)


def two_decimals(value: float | None) -> float | None:
    """A mean or a percentage rounded to two decimals (None stays None)."""
    return None if value is None else round(value, 2)


def percent(share: float | None) -> float | None:
    """A share from 0 to 1 as a percentage, to two decimals (None stays None)."""
    return None if share is None else round(share * 100, 2)


@dataclass(frozen=True)
class Breakdown:
    """One row of a breakdown: how many companies (each once) and requests had support of this kind."""

    key: str
    label: str
    companies: int
    requests: int


@dataclass(frozen=True)
class EntryUse:
    """A catalogue entry chosen in supported requests: how many companies and requests chose it."""

    entry_id: str
    name: str
    type: str
    site: str
    organisation: str
    companies: int
    requests: int


@dataclass(frozen=True)
class TimelinePoint:
    """One month or week (Stockholm) of a timeline.

    Attributes:
        start: its first day.
        reached: companies with support in it (each once).
        new: companies first reached in it.
        cumulative: companies reached from the programme's start to its end.
    """

    start: dt.date
    reached: int
    new: int
    cumulative: int


@dataclass(frozen=True)
class Goal:
    """Companies reached against the target, for the console's home page.

    Attributes:
        reached: companies reached since the programme's start, up to now.
        target: the goal.
        as_of: now (UTC).
        timeline: the last :data:`GOAL_MONTHS` months, oldest first.
        definition: what "reached" means.
    """

    reached: int
    target: int
    as_of: dt.datetime
    timeline: tuple[TimelinePoint, ...]
    definition: ReachedDefinition

    @property
    def percent(self) -> int:
        """The share of the target reached, in whole per cent (rounded down; may pass 100)."""
        return self.reached * 100 // self.target


@dataclass(frozen=True)
class Column:
    """A column of a report table: its key, header and kind (``text``, ``int``, ``number`` (decimal), ``date`` or
    ``percent``)."""

    header: str
    kind: str = "text"


@dataclass(frozen=True)
class ReportTable:
    """A table of the report: one sheet of the XLSX, one CSV file.

    Attributes:
        name: the sheet's name and the CSV file's stem (letters, digits and ``_``).
        title: what it holds, in a sentence.
        columns: its columns.
        rows: its values (``int``, ``str``, ``dt.date`` or None), one tuple per row.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class OutcomeReport:
    """The indicators of a period.

    Attributes:
        period: the days counted (Stockholm).
        granularity: the timeline's months or weeks.
        generated_at: when it was made (UTC).
        definition: what "reached" means.
        reached: companies reached in the period (each once).
        new: of them, companies reached for the first time (since the programme's start).
        reached_to_date: companies reached from the programme's start to the period's end.
        requests_received: requests stored in the period (whatever their status).
        forms, sites: the breakdowns of companies reached in the period.
        entries: the catalogue entries chosen in the period's supported requests, most companies first.
        statuses: requests received in the period, by their status now.
        timeline: the period's months or weeks.
        responses: the response times of the companies' requests received in the period.
        response_entries: ``(entry name, times)`` of each entry chosen in those requests, by entry id, and of
            the requests without an entry last.
        satisfaction: the companies' answers to the follow-up given in the period (:mod:`support_requests.satisfaction`).
        satisfaction_entries: ``(entry name, answers)`` per chosen entry, most answers first.
    """

    period: Period
    granularity: Granularity
    generated_at: dt.datetime
    definition: ReachedDefinition
    reached: int
    new: int
    reached_to_date: int
    requests_received: int
    forms: tuple[Breakdown, ...]
    sites: tuple[Breakdown, ...]
    entries: tuple[EntryUse, ...]
    statuses: tuple[tuple[RequestStatus, int], ...]
    timeline: tuple[TimelinePoint, ...]
    responses: ResponseTimes
    response_entries: tuple[tuple[str, ResponseRow], ...]
    satisfaction: Satisfaction
    satisfaction_entries: tuple[tuple[str, SatisfactionRow], ...]

    def tables(self) -> list[ReportTable]:
        """The report's tables, in order: about (definitions and the period), indicators, companies over time,
        forms of support, sites, facilities and programmes, requests by status, response times, satisfaction."""
        companies, requests = Column("Companies", "int"), Column("Requests", "int")
        unit = "Month" if self.granularity is Granularity.MONTH else "Week (Monday)"
        return [
            ReportTable("about", "What this report counts", (Column("Item"), Column("Value")), self._about()),
            ReportTable("indicators", "The indicators of the period",
                        (Column("Indicator"), Column("Code"), Column("Value", "int"), Column("Definition")),
                        self._indicators()),
            ReportTable("over_time", f"Companies reached per {self.granularity.value} (Europe/Stockholm)",
                        (Column(unit, "date"), Column("Companies reached", "int"),
                         Column("Reached for the first time", "int"), Column("Reached since the start", "int")),
                        tuple((p.start, p.reached, p.new, p.cumulative) for p in self.timeline)),
            ReportTable("forms_of_support", "Companies reached, by form of support",
                        (Column("Form"), Column("Key"), companies, requests),
                        tuple((b.label, b.key, b.companies, b.requests) for b in self.forms)),
            ReportTable("sites", "Companies reached, by site of the chosen entries",
                        (Column("Site"), Column("Key"), companies, requests),
                        tuple((b.label, b.key, b.companies, b.requests) for b in self.sites)),
            ReportTable("facilities", "Facilities, programmes and contacts chosen by the companies reached",
                        (Column("Entry"), Column("Entry id"), Column("Type"), Column("Site"),
                         Column("Organisation"), companies, requests),
                        tuple((e.name, e.entry_id, e.type, e.site, e.organisation, e.companies, e.requests)
                              for e in self.entries)),
            ReportTable("requests_by_status", "Requests received in the period, by their status now",
                        (Column("Status"), requests),
                        tuple((status.value, count) for status, count in self.statuses)),
            ReportTable("response_times", "Days from a company's request to the first advisor action and to the "
                        "hand-over to the facility contact, for the requests received in the period, by chosen entry",
                        (Column("Entry"), Column("Entry id"), requests, Column("Acted on", "int"),
                         Column("Median days to first action", "number"),
                         Column("90th percentile days to first action", "number"),
                         Column("Handed over", "int"), Column("Median days to hand-over", "number"),
                         Column("90th percentile days to hand-over", "number")),
                        tuple(_response_cells(name, row) for name, row
                              in (("All requests", self.responses.overall), *self.response_entries))),
            ReportTable("satisfaction", "The companies' answers to \"Did this help?\" (1 not at all, 5 very much), "
                        "given in the period, all answers and by chosen entry",
                        (Column("Entry"), Column("Entry id"), Column("Answers", "int"),
                         Column("Mean (1-5)", "number"), *(Column(f"Answered {score}", "int") for score in SCORES),
                         Column("Satisfied (4-5), %", "number")),
                        tuple(_satisfaction_cells(name, row) for name, row
                              in (("All answers", self.satisfaction.overall), *self.satisfaction_entries))),
        ]

    def _about(self) -> tuple[tuple[object, ...], ...]:
        rows: list[tuple[object, ...]] = [
            ("Report", "Stockholm Life Tech: companies reached"),
            ("Period", f"{self.period} (both days included, Europe/Stockholm)"),
            ("From", self.period.first.isoformat()),
            ("To", self.period.last.isoformat()),
            ("Generated", self.generated_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M %Z")),
            ("Reached", self.definition.describe()),
            ("Target", f"{self.definition.target} companies"),
            ("Counting", ("Each company is counted once per figure, identified by its organisation number or, "
                          "without one, its normalised name. The rows of a breakdown may add up to more than the "
                          "total: a company with two forms of support counts under both.")),
            ("New companies", ("Companies reached in the period and never before (since the programme's start). "
                               "Navigator does not hold registration dates, so this is not RCO05 (enterprises "
                               "registered less than 12 months before the support).")),
            ("Sites", "The sites of the catalogue entries the company chose; a request without entries has none."),
            ("Response times", ("Elapsed days (nights and holidays included) from a company's request to the first "
                                "advisor action (an assignment, a status change or a note) and to the hand-over to "
                                "the facility contact (the request connected), for the requests received in the "
                                "period; requests an advisor opened in the console are not counted. Medians and "
                                "90th percentiles of the requests that have had the action; the others are "
                                "counted as requests only.")),
            ("Satisfaction", ("When a request is completed (closed after an advisor worked on it), the company gets one "
                              "follow-up email asking \"Did this help?\" from 1 (not at all) to 5 (very much). The "
                              "answers given in the period are counted, all of them and under every entry their "
                              "request chose. The companies' comments are personal data and are not in this "
                              "report.")),
        ]
        if self.definition.programme_start:
            rows.append(("Programme start", self.definition.programme_start.isoformat()))
        return tuple(rows)

    def _indicators(self) -> tuple[tuple[object, ...], ...]:
        return (
            ("Companies reached", "RCO01", self.reached, "companies with support in the period, each once"),
            ("New companies", "", self.new, "companies reached in the period for the first time"),
            ("Companies reached since the start", "", self.reached_to_date,
             "from the programme's start to the end of the period"),
            ("Target", "", self.definition.target, "companies the programme aims to reach"),
            ("Requests received", "", self.requests_received, "support requests stored in the period"),
            ("Median days to first response", "", days(self.responses.overall.first_action.median),
             "from a company's request to the first advisor action, requests received in the period"),
            ("90th percentile days to first response", "", days(self.responses.overall.first_action.p90),
             "nine in ten requests acted on were acted on within this many days"),
            ("Median days to hand-over", "", days(self.responses.overall.handover.median),
             "from a company's request to the hand-over to the facility contact"),
            ("90th percentile days to hand-over", "", days(self.responses.overall.handover.p90),
             "nine in ten requests handed over were handed over within this many days"),
            ("Satisfaction (1-5)", "", two_decimals(self.satisfaction.overall.mean),
             "mean answer to \"Did this help?\" (1 not at all, 5 very much) of the follow-ups answered in the period"),
            ("Satisfaction answers", "", self.satisfaction.overall.answers,
             "follow-ups answered in the period"),
            ("Satisfied (4-5), %", "", percent(self.satisfaction.overall.satisfied_share),
             "share of the answers that were 4 or 5"),
            ("Follow-ups sent", "", self.satisfaction.queued,
             "follow-up emails due in the period (one per completed request of a company that consented)"),
        )


class OutcomeReporter:
    """Makes the home page's goal and the period reports.

    Args:
        engine: the request database, migrated.
        definition: what counts as reached, and the target.
        entry: looks up a catalogue entry by id (None for an id no longer in the catalogue).
        clock: the current UTC time.
        waiting_working_days: a request still new or assigned after more than this many working days waits too
            long (:mod:`support_requests.response_times`).
    """

    def __init__(self, engine: Engine, definition: ReachedDefinition, *, entry: Callable[[str], Entry | None],
                 clock: Callable[[], dt.datetime] = utc_now, waiting_working_days: int = 5):
        self.queries = OutcomeQueries(engine, definition)
        self.responses = ResponseQueries(engine)
        self.satisfaction = SatisfactionQueries(engine)
        self.waiting_working_days = waiting_working_days
        self.definition = definition
        self.entry = entry
        self.clock = clock

    def goal(self) -> Goal:
        """Companies reached so far against the target, with the last :data:`GOAL_MONTHS` months. Blocks on the
        database.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        now = self.clock()
        today = local_day(now)
        first_month = Granularity.MONTH.start_of(today)
        for _ in range(GOAL_MONTHS - 1):
            first_month = Granularity.MONTH.start_of(first_month - dt.timedelta(days=1))
        period = Period(first_month, today)
        timeline, counts = self._timeline(Granularity.MONTH, period, now)
        return Goal(reached=counts.before + sum(counts.new), target=self.definition.target, as_of=now,
                    timeline=tuple(timeline), definition=self.definition)

    def waiting(self, limit: int = HOME_WAITING) -> WaitingList:
        """The requests waiting more than :attr:`waiting_working_days` working days now: how many, and the
        oldest ``limit``. Blocks on the database.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        now = self.clock()
        return WaitingList(threshold=self.waiting_working_days,
                           total=self.responses.waiting_count(now, self.waiting_working_days),
                           requests=tuple(self.responses.waiting(now, self.waiting_working_days, limit)))

    def report(self, period: Period, granularity: Granularity = Granularity.MONTH) -> OutcomeReport:
        """The indicators of ``period``. Blocks on the database.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        start, end = period.start, period.end
        timeline, counts = self._timeline(granularity, period, end)
        supported = self.queries.supported_requests(start, end)
        statuses = self.queries.requests_by_status(start, end)
        responses = summarise(self.responses.request_times(start, end))
        satisfaction = self.satisfaction.summary(start, end)
        return OutcomeReport(
            period=period, granularity=granularity, generated_at=self.clock(), definition=self.definition,
            reached=counts.reached_in_period, new=sum(counts.new),
            reached_to_date=counts.before + sum(counts.new), requests_received=sum(statuses.values()),
            forms=tuple(self._forms(supported)), sites=tuple(self._sites(supported)),
            entries=tuple(self._entries(supported)), statuses=tuple(statuses.items()),
            timeline=tuple(timeline),
            responses=responses, response_entries=tuple((self.entry_name(row.key), row) for row in responses.by_entry),
            satisfaction=satisfaction,
            satisfaction_entries=tuple((self.entry_name(row.key), row) for row in satisfaction.by_entry))

    def _timeline(self, granularity: Granularity, period: Period,
                  end: dt.datetime) -> tuple[list[TimelinePoint], TimelineCounts]:
        """The period's months or weeks, counted in SQL: companies with support in each (moments before ``end``),
        first reached in each, and reached from the start to each one's end (or ``end``, for the last)."""
        starts = granularity.starts(period.first, period.last)
        counts = self.queries.timeline_counts([day_start(start) for start in starts], period.start, end)
        points, cumulative = [], counts.before
        for index, start in enumerate(starts):
            cumulative += counts.new[index]
            points.append(TimelinePoint(start=start, reached=counts.reached[index], new=counts.new[index],
                                        cumulative=cumulative))
        return points, counts

    def entry_name(self, entry_id: str) -> str:
        """The catalogue name of a chosen entry, or what stands for it (no entry, an entry no longer there)."""
        if entry_id == NO_ENTRY:
            return "No entry chosen"
        entry = self.entry(entry_id)
        return entry.name if entry is not None else f"{entry_id} (no longer in the catalogue)"

    # -- breakdowns -----------------------------------------------------------------------------------------

    def forms_of(self, request: SupportedRequest) -> set[SupportForm]:
        """The forms of support of one request: an intake when an advisor opened it in the console, and one per
        kind of entry chosen (lab space by :attr:`ReachedDefinition.lab_space_entries`; a contact role by the
        entries it answers for); other advice when it has neither."""
        forms = {SupportForm.INTAKE} if request.channel == INTAKE_CHANNEL else set()
        for entry_id in request.entry_ids:
            forms |= self._entry_forms(entry_id)
        return forms or {SupportForm.OTHER}

    def _entry_forms(self, entry_id: str, depth: int = 0) -> set[SupportForm]:
        if entry_id in self.definition.lab_space_entries:
            return {SupportForm.LAB_SPACE}
        entry = self.entry(entry_id)
        if entry is None:
            return set()
        if entry.type is EntryType.FACILITY:
            return {SupportForm.FACILITY}
        if entry.type is EntryType.PROGRAMME:
            return {SupportForm.PROGRAMME}
        if depth == 0:  # an expert: the forms of what the role answers for
            return set().union(*(self._entry_forms(served, 1) for served in entry.serves))
        return set()

    def _forms(self, supported: list[SupportedRequest]) -> list[Breakdown]:
        return _breakdown([(r, form.value) for r in supported for form in self.forms_of(r)],
                          [(form.value, form.label) for form in SupportForm])

    def _sites(self, supported: list[SupportedRequest]) -> list[Breakdown]:
        keyed = []
        for request in supported:
            for site in {self._site(entry_id) for entry_id in request.entry_ids}:
                keyed.append((request, site))
        labels = [(site.value, site.label) for site in Site] + [(UNKNOWN_SITE, "Entry no longer in the catalogue")]
        return [row for row in _breakdown(keyed, labels) if row.key != UNKNOWN_SITE or row.requests]

    def _site(self, entry_id: str) -> str:
        entry = self.entry(entry_id)
        return entry.site.value if entry is not None else UNKNOWN_SITE

    def _entries(self, supported: list[SupportedRequest]) -> list[EntryUse]:
        companies: dict[str, set[int]] = {}
        requests: dict[str, set[int]] = {}
        for request in supported:
            for entry_id in request.entry_ids:
                companies.setdefault(entry_id, set()).add(request.company_id)
                requests.setdefault(entry_id, set()).add(request.request_id)
        uses = []
        for entry_id, chosen_by in companies.items():
            entry = self.entry(entry_id)
            uses.append(EntryUse(
                entry_id=entry_id, name=entry.name if entry else entry_id,
                type=entry.type.value if entry else "unknown",
                site=entry.site.label if entry else "Entry no longer in the catalogue",
                organisation=entry.organisation if entry else "", companies=len(chosen_by),
                requests=len(requests[entry_id])))
        return sorted(uses, key=lambda use: (-use.companies, -use.requests, use.entry_id))


def _response_cells(name: str, row: ResponseRow) -> tuple[object, ...]:
    first, handed = row.first_action, row.handover
    return (name, None if row.key in ("all", NO_ENTRY) else row.key, first.requests, first.measured,
            days(first.median), days(first.p90), handed.measured, days(handed.median), days(handed.p90))


def _satisfaction_cells(name: str, row: SatisfactionRow) -> tuple[object, ...]:
    return (name, None if row.key in (ALL_ANSWERS, NO_ENTRY) else row.key, row.answers, two_decimals(row.mean),
            *row.counts, percent(row.satisfied_share))


def _breakdown(keyed: list[tuple[SupportedRequest, str]], labels: list[tuple[str, str]]) -> list[Breakdown]:
    companies: dict[str, set[int]] = {key: set() for key, _ in labels}
    requests: dict[str, set[int]] = {key: set() for key, _ in labels}
    for request, key in keyed:
        companies[key].add(request.company_id)
        requests[key].add(request.request_id)
    return [Breakdown(key, label, len(companies[key]), len(requests[key])) for key, label in labels]
