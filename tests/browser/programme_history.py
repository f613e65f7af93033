"""A realistic year and a quarter of the programme, for the README's screenshots of the console's outcome pages.

Unlike the histories with known answers (tests/support_requests/*_history.py), this one is generated: about 150
companies of the life-science kind, most asking once and some two or three times, with requests from September
2025 to mid-November 2026 on the project's own catalogue (knowledge/), growing month by month, followed up by
three advisors as advisors do (assigned within hours or days, in progress, handed to the facility, closed; some
withdrawn, a few still waiting), and the assistant's conversations behind them in the tracker store (with many
more conversations that never became a request). It is the same every run (a seeded random generator), and the
plan it stores is kept, so that a test can count the companies reached in it by brute force.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field

from sqlalchemy import MetaData, create_engine, insert

from support_requests.model import RequestStatus
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, events_table, make_draft

UTC = dt.UTC
TODAY = dt.datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
"""Where the clock stands when the history has been seeded: Wednesday 18 November 2026."""
FIRST = dt.datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
ADVISORS = {"eva": "Eva Ek", "olle": "Olle Lind", "sara": "Sara Berg"}
SEED = 2026

_STEMS = ["Akro", "Bion", "Cella", "Dyna", "Eko", "Fenix", "Gena", "Hema", "Immu", "Kyro", "Lumi", "Myco",
          "Neuro", "Onko", "Proto", "Qure", "Ribo", "Sana", "Theri", "Vira", "Xeno", "Zyto"]
_ENDINGS = ["gen", "vax", "tide", "med", "cyte", "logic", "nova", "path", "sense", "thera"]
_KINDS = ["AB", "Therapeutics AB", "Diagnostics AB", "Bio AB", "Medical AB", "Biologics AB"]
_FACILITIES = ["vecura-gmp", "scilifelab-ngi-stockholm", "scilifelab-cryo-em-stockholm", "biomedicum-flow-cytometry",
               "proteomics-biomedicum", "pkl-preclinical-flemingsberg", "mouse-models-ki", "scilifelab-ddd-adme",
               "kcc-cell-therapy", "atmp-pre-gmp-flemingsberg", "scilifelab-spatial-transcriptomics",
               "biomedicum-imaging", "scilifelab-protein-science-facility", "cmm-karolinska"]
_PROGRAMMES = ["almi-loans", "vinnova-innovative-smes", "eic-accelerator", "ki-innovations", "eurostars", "swelife",
               "kth-innovation", "stockholm-life-tech"]
_LAB_SPACE = ["novum-labs-flemingsberg", "a-working-lab-flemingsberg", "ki-science-park-lab-offices",
              "forskaren-hagastaden"]
_EXPERTS = ["contact-regulatory-advisor", "contact-scilifelab-industry-relations", "contact-eu-funding-advisor"]
_NEEDS = ["GMP production of a viral vector for a phase I trial", "Cryo-EM structure of a membrane protein target",
          "Whole-genome sequencing of 96 patient samples", "Funding for a first clinical study",
          "A mouse model of lung fibrosis for an antibody", "Lab and office space for a team of four",
          "ADME profiling of two lead compounds", "Regulatory advice before a CTA submission",
          "Flow cytometry panel for T-cell phenotyping", "Spatial transcriptomics on tumour sections"]


@dataclass
class PlannedRequest:
    """One request of the plan: when it came, from which company, and what advisors did (up to today)."""

    company: int
    created: dt.datetime
    channel: str
    entries: list[str]
    conversation: str | None
    steps: list[tuple[dt.datetime, str, str]] = field(default_factory=list)
    """(when, what, advisor): ``assign``, ``note``, or a status value, in order."""

    def reached_at(self) -> dt.datetime | None:
        """The moment this request made its company reached by default (an intake from its creation, else the
        first move to in progress), or None."""
        if self.channel == "console":
            return self.created
        return next((when for when, what, _ in self.steps if what == RequestStatus.IN_PROGRESS.value), None)


@dataclass
class ProgrammeHistory:
    """The plan that was stored, and the references it got."""

    companies: list[tuple[str, str | None]]
    requests: list[PlannedRequest]
    references: list[str]

    def reached_companies(self, until: dt.datetime = TODAY) -> int:
        """Companies with a support moment up to ``until``: counted from the plan, not from the database."""
        return len({r.company for r in self.requests if (moment := r.reached_at()) and moment <= until})


def _org_number(generator: random.Random) -> str:
    """A Swedish organisation number of a limited company (559…), with its Luhn check digit."""
    digits = [5, 5, 9] + [generator.randrange(10) for _ in range(6)]
    total = 0
    for index, digit in enumerate(digits):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    check = (10 - total % 10) % 10
    text = "".join(map(str, digits)) + str(check)
    return f"{text[:6]}-{text[6:]}"


def plan_history(seed: int = SEED) -> tuple[list[tuple[str, str | None]], list[PlannedRequest]]:
    """The companies (name, organisation number or None) and their requests, oldest first."""
    generator = random.Random(seed)
    names = [f"{stem}{ending}" for stem in _STEMS for ending in _ENDINGS]
    generator.shuffle(names)
    companies = [(f"{name} {generator.choice(_KINDS)}", _org_number(generator) if generator.random() < 0.7 else None)
                 for name in names[:150]]
    days = (TODAY - FIRST).days
    requests: list[PlannedRequest] = []
    for index in range(len(companies)):
        for _ in range(generator.choices([1, 2, 3], weights=[70, 22, 8])[0]):
            # More requests as the programme becomes known: the day of the period drawn towards its end.
            day = int(days * generator.random() ** 0.7)
            created = FIRST + dt.timedelta(days=day, hours=generator.randrange(11), minutes=generator.randrange(60))
            if created.weekday() >= 5 and generator.random() < 0.7:
                created -= dt.timedelta(days=created.weekday() - 4)
            requests.append(_plan_request(generator, index, created, len(requests)))
    requests.sort(key=lambda r: r.created)
    return companies, requests


def _plan_request(generator: random.Random, company: int, created: dt.datetime, number: int) -> PlannedRequest:
    channel = generator.choices(["web", "console", "teams", "slack"], weights=[64, 20, 9, 7])[0]
    pool = generator.choices([_FACILITIES, _PROGRAMMES, _LAB_SPACE, _EXPERTS, []], weights=[55, 20, 8, 7, 10])[0]
    entries = generator.sample(pool, k=min(len(pool), generator.choice([1, 1, 1, 2]))) if pool else []
    conversation = None if channel == "console" else f"conv-{number:04d}"
    planned = PlannedRequest(company=company, created=created, channel=channel, entries=entries,
                             conversation=conversation)
    advisor = generator.choice(list(ADVISORS))
    moment = created

    def step(hours: float, what: str) -> bool:
        nonlocal moment
        moment = moment + dt.timedelta(hours=hours)
        if moment > TODAY:
            return False
        planned.steps.append((moment, what, advisor))
        return True

    if generator.random() < 0.06:  # spam, a duplicate, a company that changed its mind
        step(generator.uniform(1, 30), RequestStatus.WITHDRAWN.value)
        return planned
    if TODAY - created < dt.timedelta(days=40) and generator.random() < 0.3:  # not yet followed up, or forgotten
        if generator.random() < 0.5:
            step(generator.uniform(2, 40), "assign")
        return planned
    if not step(generator.uniform(0.5, 70), "assign"):
        return planned
    if generator.random() < 0.3:
        step(generator.uniform(0.2, 6), "note")
    if not step(generator.uniform(4, 120), RequestStatus.IN_PROGRESS.value):
        return planned
    if any(entry in _FACILITIES for entry in entries) and generator.random() < 0.8:
        if not step(generator.uniform(24, 300), RequestStatus.CONNECTED.value):
            return planned
    step(generator.uniform(200, 1500), RequestStatus.CLOSED.value)
    return planned


def seed_programme(store: RequestStore, clock: FakeClock, tracker_db_url: str, seed: int = SEED) -> ProgrammeHistory:
    """Store the planned history on ``store`` (whose clock is ``clock``) and its conversations in a new tracker
    store at ``tracker_db_url``; the clock ends at :data:`TODAY`."""
    companies, requests = plan_history(seed)
    references: list[str] = []
    for number, planned in enumerate(requests):
        name, org_number = companies[planned.company]
        clock.now = planned.created
        email = f"contact@{name.split()[0].lower()}.example.org"
        draft = make_draft(clock, company_name=name, org_number=org_number, email=email, channel=planned.channel,
                           entry_ids=planned.entries, conversation_id=planned.conversation,
                           need_summary=_NEEDS[number % len(_NEEDS)])
        reference = store.create(draft, f"programme-{number}").reference
        references.append(reference)
        for when, what, advisor in planned.steps:
            clock.now = when
            if what == "assign":
                store.assign(reference, advisor, actor=advisor)
            elif what == "note":
                store.add_note(reference, advisor, "Called the company back.")
            else:
                store.set_status(reference, RequestStatus(what), actor=advisor)
    _seed_conversations(tracker_db_url, requests, random.Random(seed + 1))
    clock.now = TODAY
    return ProgrammeHistory(companies=companies, requests=requests, references=references)


def _seed_conversations(url: str, requests: list[PlannedRequest], generator: random.Random) -> None:
    """The assistant's conversations: one for each request from the assistant (a search, then the entry's details
    or contact), and about four times as many that ended before a request (some without a search)."""
    rows: list[dict] = []

    def conversation(sender: str, start: dt.datetime, actions: list[str]) -> None:
        moment = start.timestamp()
        rows.append({"sender_id": sender, "type_name": "user", "timestamp": moment, "intent_name": "describe_need",
                     "action_name": None, "data": json.dumps({"event": "user", "text": "hello"})})
        for offset, action in enumerate(actions, start=1):
            rows.append({"sender_id": sender, "type_name": "action", "timestamp": moment + offset * 20,
                         "intent_name": None, "action_name": action,
                         "data": json.dumps({"event": "action", "name": action})})

    for planned in requests:
        if planned.conversation:
            shown = ["action_show_contact"] if generator.random() < 0.8 else []
            conversation(planned.conversation, planned.created - dt.timedelta(minutes=6),
                         ["action_search_catalogue", *shown])
    for number in range(4 * len(requests)):
        start = FIRST + dt.timedelta(seconds=generator.randrange(int((TODAY - FIRST).total_seconds())))
        searched = generator.random() < 0.7
        actions = (["action_search_catalogue"] if searched else []) + (
            ["action_show_details"] if searched and generator.random() < 0.45 else [])
        conversation(f"visit-{number:05d}", start, actions)
    engine = create_engine(url)
    metadata = MetaData()
    events = events_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(events), rows)
    engine.dispose()
