"""A large, realistic history for the outcome pages' benchmark: companies, their support requests with every
history row, and Rasa's tracker store with the assistant's conversations.

The default size is the one the programme must handle: 5,000 companies, 20,000 requests over two years before
``now``, and 50,000 conversations of about 10 events each (about 500,000 events). The same code seeds a small
history for the benchmark's own test. Everything is drawn from a seeded random generator, so a size and seed
always give the same rows.

Rows are written with bulk inserts into the store's own tables (the requests' rows as ``RequestStore`` writes
them: a ``status`` history row at creation, ``assignee`` with a ``status`` change to assigned, ``note`` rows with
their notes, the later status changes), which takes seconds where 20,000 calls of ``RequestStore.create`` would
take minutes. What the rows hold:

- **companies**: 30% without an organisation number (known by their name only); a few dozen merged into another
  record, as the console's merge leaves them; every company has at least one request, and some many (a long tail);
- **requests**: about one in five opened by an advisor in the console (an intake), the others from the assistant
  (``web``, with the conversation they came from), the REST API, Teams and Slack; 0 to 3 chosen catalogue entries;
  each follows the workflow as advisors do (assigned within a day or two, in progress, often connected, closed
  weeks later; some closed at once as spam, some withdrawn, a few left waiting), cut at ``now``;
- **the tracker store**: Rasa's ``events`` table (its columns and its index on ``sender_id``); conversations
  spread over the same two years, some without a message, about half with a search and a quarter with details
  or a contact shown; each assistant request is linked to one conversation that started just before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, MetaData, create_engine, insert

from support_requests.companies import name_key, org_key
from support_requests.model import RequestStatus
from support_requests.references import format_reference
from support_requests.tables import (
    CompanyKeyRow,
    CompanyRow,
    EntryRow,
    HistoryRow,
    NoteRow,
    ReferenceCounterRow,
    RequestRow,
)
from tests.support_requests.helpers import events_table

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
"""The benchmark's "now": the history ends here (a Monday; the pages are timed as if it were this moment)."""

ADVISORS = ("eva", "johan", "sara", "ahmed", "lena", "mikael", "nora", "oskar")
"""The advisors that requests are assigned to."""

SEARCH_ACTIONS = ("action_search_catalogue", "action_restrict_site", "action_show_funding")
VIEW_ACTIONS = ("action_show_details", "action_show_contact")
_WORDS = ("Acme", "Bio", "Nordic", "Karo", "Vaxa", "Cellvia", "Genora", "Immuno", "Neuro", "Onco", "Peptide",
          "Lumen", "Strata", "Helix", "Kinetic", "Solna", "Fleming", "Arctic", "Baltic", "Aurora")
_FORMS = ("AB", "AB", "AB", "Aktiebolag", "AB (publ)", "HB", "")
_UTC = dt.UTC


@dataclass(frozen=True)
class HistorySize:
    """How much to seed.

    Attributes:
        companies: distinct companies (every one gets at least one request).
        requests: support requests (at least ``companies``).
        conversations: the assistant's conversations in the tracker store.
        days: how many days before ``now`` the history starts.
    """

    companies: int = 5_000
    requests: int = 20_000
    conversations: int = 50_000
    days: int = 730

    def __post_init__(self) -> None:
        if self.companies < 1 or self.requests < self.companies or self.conversations < self.requests:
            raise ValueError("the sizes need 1 <= companies <= requests <= conversations")


DEFAULT_SIZE = HistorySize()
"""The size the pages must handle: 5,000 companies, 20,000 requests, 50,000 conversations over two years."""


@dataclass(frozen=True)
class SeededHistory:
    """What was written: row counts per table, for the benchmark's description."""

    companies: int
    merged_companies: int
    companies_without_number: int
    requests: int
    intakes: int
    history_rows: int
    notes: int
    entries: int
    conversations: int
    events: int
    status_counts: dict[str, int]


def seed_history(request_db: Engine, tracker_url: str, entry_ids: Sequence[str], *,
                 size: HistorySize = DEFAULT_SIZE, now: dt.datetime = NOW, seed: int = 20261130) -> SeededHistory:
    """Write the history into ``request_db`` (migrated and empty) and a new tracker store at ``tracker_url``.

    Args:
        request_db: the request database's engine (``RequestStore.engine``), with no requests yet.
        tracker_url: where Rasa's tracker store is created (an SQLite file or a PostgreSQL database).
        entry_ids: the catalogue entries requests choose from.
        size: how much to write.
        now: the end of the history (UTC).
        seed: the random generator's seed.

    Returns:
        The row counts written.
    """
    rng = random.Random(seed)
    start = now - dt.timedelta(days=size.days)
    companies, keys, without_number = _companies(rng, size.companies, start)
    conversation_starts = sorted(_working_time(rng, start, now) for _ in range(size.conversations))
    owners = _request_companies(rng, size)
    requests: list[dict] = []
    entries: list[dict] = []
    history: list[dict] = []
    notes: list[dict] = []
    linked: dict[int, dt.datetime] = {}  # conversation index -> its request's creation time
    counters: dict[int, int] = {}
    statuses: dict[str, int] = {}
    request_times = sorted(_working_time(rng, start, now - dt.timedelta(hours=1)) for _ in range(size.requests))
    intakes = 0
    for number, created in enumerate(request_times, start=1):
        company = owners[number - 1]
        channel = rng.choices(("web", "console", "rest", "teams", "slack"), (62, 20, 8, 5, 5))[0]
        intakes += channel == "console"
        conversation = None
        if channel in ("web", "teams", "slack"):
            index = _conversation_before(rng, conversation_starts, created, linked)
            if index is not None:
                linked[index] = created
                conversation = f"conv-{index:06d}"
        counters[created.year] = counters.get(created.year, 0) + 1
        status, closed_at, updated_at, assignee = _workflow(rng, number, created, now, channel, history, notes)
        statuses[status] = statuses.get(status, 0) + 1
        chosen = rng.sample(entry_ids, rng.choices((0, 1, 2, 3), (15, 55, 22, 8))[0])
        entries.extend({"request_id": number, "position": position, "entry_id": entry_id}
                       for position, entry_id in enumerate(chosen))
        owner = companies[company]
        requests.append({
            "id": number, "reference": format_reference(created.year, counters[created.year]),
            "idempotency_key": hashlib.sha256(f"bench-{number}".encode()).hexdigest(),
            "created_at": created, "updated_at": updated_at, "channel": channel, "conversation_id": conversation,
            "company_name": owner["name"], "contact_person": "Anna Berg", "email": f"contact{number}@example.org",
            "email_key": f"contact{number}@example.org", "phone": None, "org_number": owner["org_number"],
            "need_summary": "GMP production of an AAV vector for a phase I trial, and flow cytometry on the "
                            "transduced cells.",
            "routed_contact": chosen[0] if chosen else "navigator-advisors",
            "consent_given_at": created - dt.timedelta(minutes=2), "consent_notice_version": "2026-11",
            "status": status, "assignee": assignee, "closed_at": closed_at, "erased_at": None,
            "company_id": owner["merged_into_id"] or owner["id"]})
    merged = sum(1 for company in companies if company["merged_into_id"])
    with request_db.begin() as connection:
        _insert(connection, CompanyRow.__table__, companies)
        _insert(connection, CompanyKeyRow.__table__, keys)
        _insert(connection, RequestRow.__table__, requests)
        _insert(connection, EntryRow.__table__, entries)
        _insert(connection, NoteRow.__table__, notes)
        _insert(connection, HistoryRow.__table__, history)
        _insert(connection, ReferenceCounterRow.__table__,
                [{"year": year, "last_number": count} for year, count in sorted(counters.items())])
    events = _seed_tracker(rng, tracker_url, conversation_starts, linked)
    return SeededHistory(companies=len(companies), merged_companies=merged, companies_without_number=without_number,
                         requests=len(requests), intakes=intakes, history_rows=len(history), notes=len(notes),
                         entries=len(entries), conversations=len(conversation_starts), events=events,
                         status_counts=dict(sorted(statuses.items())))


def _insert(connection, table, rows: list[dict], chunk: int = 5_000) -> None:
    for first in range(0, len(rows), chunk):
        connection.execute(insert(table), rows[first:first + chunk])


def _working_time(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A moment between ``start`` and ``end``, mostly on weekdays in office hours (as companies write), and a little
    more often in the later months (the programme grows)."""
    span = (end - start).total_seconds()
    while True:
        moment = start + dt.timedelta(seconds=span * max(rng.random(), rng.random() * 0.9))
        local_hour = (moment.hour + 1) % 24
        if moment.weekday() >= 5 and rng.random() < 0.85:
            continue
        if not 7 <= local_hour < 18 and rng.random() < 0.8:
            continue
        return moment.replace(microsecond=0)


def _companies(rng: random.Random, count: int, start: dt.datetime) -> tuple[list[dict], list[dict], int]:
    companies, keys, taken, without_number = [], [], set(), 0
    merged_share = max(1, count // 120)
    for number in range(1, count + 1):
        name = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {number} {rng.choice(_FORMS)}".strip()
        org_number = None
        if rng.random() >= 0.30:
            digits = f"55{number:08d}"
            org_number = f"{digits[:6]}-{digits[6:]}"
        else:
            without_number += 1
        merged_into = rng.randint(1, number - 1) if number > merged_share * 2 and number % 120 == 0 else None
        if merged_into is not None and companies[merged_into - 1]["merged_into_id"]:
            merged_into = companies[merged_into - 1]["merged_into_id"]
        if merged_into is not None and org_number and companies[merged_into - 1]["org_number"]:
            org_number = None  # two numbers would be two legal entities: this record was the one without it
            without_number += 1
        companies.append({"id": number, "name": name, "org_number": org_number, "created_at": start,
                          "erased_at": None, "merged_into_id": merged_into,
                          "merged_at": start + dt.timedelta(days=400) if merged_into else None,
                          "merged_by": "eva" if merged_into else None})
        for key in ([org_key(org_number)] if org_number else []) + [name_key(name)]:
            if key and key not in taken:
                taken.add(key)
                keys.append({"key": key, "company_id": merged_into or number})
    return companies, keys, without_number


def _request_companies(rng: random.Random, size: HistorySize) -> list[int]:
    """The company (index) of each request in time order: every company once, the rest from a long tail."""
    owners = list(range(size.companies))
    weights = [1 / (rank + 1) ** 0.6 for rank in range(size.companies)]
    owners += rng.choices(range(size.companies), weights, k=size.requests - size.companies)
    rng.shuffle(owners)
    return owners


def _conversation_before(rng: random.Random, starts: Sequence[dt.datetime], created: dt.datetime,
                         linked: dict[int, dt.datetime]) -> int | None:
    """A conversation that started shortly before ``created`` and has no request yet (None if none is near)."""
    from bisect import bisect_left

    index = bisect_left(starts, created) - 1
    for candidate in range(index, max(-1, index - 40), -1):
        if candidate not in linked and rng.random() < 0.7:
            return candidate
    return None


def _workflow(rng: random.Random, request_id: int, created: dt.datetime, now: dt.datetime, channel: str,
              history: list[dict], notes: list[dict]) -> tuple[str, dt.datetime | None, dt.datetime, str | None]:
    """The request's history rows as advisors make them, cut at ``now``; returns its status, closing time, last
    change and advisor."""
    advisor = rng.choice(ADVISORS)
    steps: list[tuple[dt.timedelta, str, str | None, str | None]] = []  # (after creation, field, old, new)
    hours = dt.timedelta(hours=1)
    intake = channel == "console"
    path = rng.random()
    if intake:
        steps += [(dt.timedelta(0), "assignee", None, advisor), (dt.timedelta(0), "status", "new", "assigned"),
                  (dt.timedelta(minutes=5), "status", "assigned", "in_progress")]
        at = dt.timedelta(minutes=5)
        if rng.random() < 0.5:
            at += hours * rng.expovariate(1 / 72)
            steps.append((at, "status", "in_progress", "connected"))
        steps.append((at + hours * rng.expovariate(1 / 500), "status", steps[-1][3], "closed"))
    elif path < 0.06:  # spam or a duplicate, closed at once
        steps.append((hours * rng.expovariate(1 / 6), "status", "new", "closed"))
    elif path < 0.10:  # the company withdrew
        steps.append((hours * rng.expovariate(1 / 30), "status", "new", "withdrawn"))
    elif path < 0.12:  # left waiting (nobody took it on)
        pass
    else:
        at = hours * rng.expovariate(1 / 20)
        steps += [(at, "assignee", None, advisor), (at, "status", "new", "assigned")]
        if rng.random() < 0.97:
            at += hours * rng.expovariate(1 / 40)
            steps.append((at, "status", "assigned", "in_progress"))
            previous = "in_progress"
            if rng.random() < 0.55:
                at += hours * rng.expovariate(1 / 120)
                steps.append((at, "status", "in_progress", "connected"))
                previous = "connected"
            at += hours * rng.expovariate(1 / 700)
            steps.append((at, "status", previous, "closed" if rng.random() < 0.95 else "withdrawn"))
    for _ in range(rng.choices((0, 1, 2, 3), (45, 30, 15, 10))[0]):
        steps.append((hours * rng.uniform(1, 400), "note", None, None))
    steps.sort(key=lambda step: step[0])
    status, closed_at, updated_at, assignee, note_number = "new", None, created, None, 0
    history.append({"request_id": request_id, "at": created, "actor": f"company ({channel})", "field": "status",
                    "old_value": None, "new_value": "new"})
    for after, field, old, new in steps:
        moment = created + after
        if moment >= now or (status in ("closed", "withdrawn") and field != "note"):
            break
        if field == "note":
            note_number += 1
            notes.append({"request_id": request_id, "number": note_number, "at": moment, "author": advisor,
                          "text": "Called the company; they will send the study protocol."})
            new = f"note {note_number}"
        elif field == "assignee":
            assignee = new
        else:
            status = new
            if new in ("closed", "withdrawn"):
                closed_at = moment
        history.append({"request_id": request_id, "at": moment, "actor": advisor, "field": field,
                        "old_value": old, "new_value": new})
        updated_at = moment
    return RequestStatus(status).value, closed_at, updated_at, assignee


def _seed_tracker(rng: random.Random, url: str, starts: Sequence[dt.datetime],
                  linked: dict[int, dt.datetime]) -> int:
    """Rasa's ``events`` table with one conversation per start; returns the number of events written."""
    engine = create_engine(url)
    metadata = MetaData()
    events = events_table(metadata)
    metadata.create_all(engine)
    written = 0
    try:
        with engine.begin() as connection:
            batch: list[dict] = []
            for index, started in enumerate(starts):
                batch.extend(_conversation_events(rng, f"conv-{index:06d}", started, index in linked))
                if len(batch) >= 10_000:
                    connection.execute(insert(events), batch)
                    written += len(batch)
                    batch = []
            if batch:
                connection.execute(insert(events), batch)
                written += len(batch)
    finally:
        engine.dispose()
    return written


def _conversation_events(rng: random.Random, sender: str, started: dt.datetime,
                         has_request: bool) -> Iterable[dict]:
    """The events of one conversation as Rasa stores them: the session start, the company's messages (with their
    parse data, the biggest rows), the actions and the assistant's answers."""
    moment = started.timestamp() - 2
    rows: list[dict] = []

    def event(type_name: str, *, action: str | None = None, intent: str | None = None, text: str = "") -> None:
        nonlocal moment
        moment += rng.uniform(0.2, 40)
        if type_name == "user":
            data = {"event": "user", "timestamp": moment, "text": text,
                    "parse_data": {"intent": {"name": intent, "confidence": 0.97},
                                   "entities": [], "text": text,
                                   "intent_ranking": [{"name": name, "confidence": 0.01}
                                                      for name in ("greet", "affirm", "deny", "describe_need",
                                                                   "request_support", "ask_funding", "thanks")]},
                    "input_channel": "rest", "message_id": f"{sender}-{len(rows)}"}
        elif type_name == "bot":
            data = {"event": "bot", "timestamp": moment, "text": "Here are the facilities that match your need.",
                    "data": {"buttons": None, "custom": None}}
        else:
            data = {"event": type_name, "timestamp": moment, "name": action}
        rows.append({"sender_id": sender, "type_name": type_name, "timestamp": moment, "intent_name": intent,
                     "action_name": action, "data": json.dumps(data)})

    event("action", action="action_session_start")
    event("session_started")
    event("action", action="action_listen")
    wrote = has_request or rng.random() < 0.9
    if not wrote:  # opened the chat and left
        return rows
    searched = has_request and rng.random() < 0.8 or rng.random() < 0.5
    viewed = searched and rng.random() < (0.7 if has_request else 0.4)
    event("user", intent="describe_need", text="We need GMP manufacturing of a viral vector for a phase 1 trial")
    if searched:
        event("action", action=rng.choice(SEARCH_ACTIONS))
        event("bot")
        event("action", action="action_listen")
    if viewed:
        event("user", intent="ask_details", text="Tell me more about the first one")
        event("action", action=rng.choice(VIEW_ACTIONS))
        event("bot")
        event("action", action="action_listen")
    for _ in range(rng.choices((0, 1, 2, 3), (40, 30, 20, 10))[0]):
        event("user", intent="affirm", text="thanks")
        event("action", action="utter_anything_else")
        event("bot")
        event("action", action="action_listen")
    return rows
