"""Completed requests and their follow-up answers with known satisfaction figures, shared by the data-layer, CLI and
console tests.

Entry ids are the sample catalogue's (tests/fakes.py ``SAMPLE``): ``vecura-gmp`` (Vecura), ``almi-loans`` (Almi),
``flow-biomedicum`` and ``cryo-em-solna``. Times are UTC; Stockholm is UTC+1 in winter, UTC+2 from 29 March 2026.

- s7: ``almi-loans``, completed 2025-12-31 20:00, answered **1** at 2025-12-31 23:30 UTC = 00:30 on New Year's Day
  in Stockholm: a 2026 answer (its email was due in 2025), with the comment "Nobody called me back".
- s1: ``vecura-gmp`` and ``almi-loans``, completed 2026-02-01 10:00, answered **5** on 2026-02-03 with a comment
  holding markup: ``<script>alert('x')</script> Excellent & fast``.
- s2: ``vecura-gmp``, completed 2026-03-01, answered **2** at 2026-03-31 22:30 UTC = 1 April 00:30 in Stockholm
  (an April answer), no comment.
- s3: no entry, completed 2026-04-02, answered **4** on 2026-04-05, comment "Good".
- s4: ``flow-biomedicum``, completed 2026-05-01, answered **3** on 2026-05-02 with the comment "Call me on 070 123
  45 67", then erased: the score stays, the comment becomes ``[erased]``.
- s5: ``cryo-em-solna``, completed 2026-06-01, never answered.
- s6: ``vecura-gmp``, closed 2026-06-02 without being in progress: no follow-up.

So 2026 has 5 answers, one of each score (mean 3.0, 2 of 5 satisfied: 40 %) and 5 follow-ups due; Vecura has 2
answers (2 and 5: mean 3.5), Almi 2 (1 and 5: 3.0), flow-biomedicum 1 (3), no entry 1 (4). The first quarter of
2026 (Stockholm) has s7 and s1 only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, text

from support_requests.follow_up_answers import FollowUpAnswers
from support_requests.response_times import NO_ENTRY
from support_requests.satisfaction import ALL
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, make_draft

UTC = dt.timezone.utc
AFTER = dt.datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
"""Where the clock stands when the answers have been seeded."""

XSS_COMMENT = "<script>alert('x')</script> Excellent & fast"


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@dataclass(frozen=True)
class Answers:
    """The references of the seeded requests (s1 to s7) and the tokens of their follow-up links."""

    references: dict[str, str]
    tokens: dict[str, str]


def follow_up_token(store: RequestStore, reference: str) -> str:
    """The token in the follow-up email of ``reference`` (from its outbox row)."""
    with store.engine.connect() as connection:
        payloads = connection.execute(text(
            "SELECT o.payload FROM outbox o JOIN support_requests r ON r.id = o.request_id "
            "WHERE r.reference = :reference ORDER BY o.id"), {"reference": reference}).scalars().all()
    for payload in payloads:
        found = re.search(r"/follow-up/(\S+)", json.loads(payload).get("body", ""))
        if found:
            return found.group(1)
    raise AssertionError(f"{reference} has no follow-up email")


def seed_answers(store: RequestStore, clock: FakeClock) -> Answers:
    """Store s1 to s7 of the module's table on ``store`` (which must have a follow-up policy without delay, on
    ``clock``); the clock ends at :data:`AFTER`."""
    assert store.follow_up is not None and store.follow_up.delay == dt.timedelta(0)
    answers = FollowUpAnswers(store.engine, store.follow_up.links, clock=clock)
    references: dict[str, str] = {}
    tokens: dict[str, str] = {}

    def completed(name: str, when: dt.datetime, entries: list[str]) -> None:
        clock.now = when - dt.timedelta(hours=2)
        reference = store.create(make_draft(clock, company_name=f"Company {name} AB", entry_ids=entries,
                                            email=f"{name}@company.example.org", org_number=None,
                                            conversation_id=f"conv-{name}"), f"satisfaction-{name}").reference
        references[name] = reference
        clock.now = when - dt.timedelta(hours=1)
        store.set_status(reference, "in_progress", actor="eva")
        clock.now = when
        store.set_status(reference, "closed", actor="eva")
        tokens[name] = follow_up_token(store, reference)

    def answer(name: str, when: dt.datetime, score: int, comment: str | None = None) -> None:
        clock.now = when
        assert answers.answer(tokens[name], score, comment).answered

    completed("s7", at(2025, 12, 31, 20, 0), ["almi-loans"])
    answer("s7", at(2025, 12, 31, 23, 30), 1, "Nobody called me back")
    completed("s1", at(2026, 2, 1, 10, 0), ["vecura-gmp", "almi-loans"])
    answer("s1", at(2026, 2, 3, 10, 0), 5, XSS_COMMENT)
    completed("s2", at(2026, 3, 1, 10, 0), ["vecura-gmp"])
    answer("s2", at(2026, 3, 31, 22, 30), 2)
    completed("s3", at(2026, 4, 2, 10, 0), [])
    answer("s3", at(2026, 4, 5, 10, 0), 4, "Good")
    completed("s4", at(2026, 5, 1, 10, 0), ["flow-biomedicum"])
    answer("s4", at(2026, 5, 2, 10, 0), 3, "Call me on 070 123 45 67")
    clock.now = at(2026, 5, 3, 10, 0)
    store.erase(reference=references["s4"])
    completed("s5", at(2026, 6, 1, 10, 0), ["cryo-em-solna"])
    clock.now = at(2026, 6, 2, 9, 0)
    references["s6"] = store.create(make_draft(clock, company_name="Company s6 AB", entry_ids=["vecura-gmp"],
                                               email="s6@company.example.org", org_number=None),
                                    "satisfaction-s6").reference
    clock.now = at(2026, 6, 2, 10, 0)
    store.set_status(references["s6"], "closed", actor="eva")
    clock.now = AFTER
    return Answers(references=references, tokens=tokens)


def answers_in_sql(engine: Engine, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, ...]]:
    """The reference count: every answered follow-up read from the tables and counted in Python, per score (1 to 5),
    for all answers given in ``[start, end)`` (key ``all``, left out when none) and per chosen entry."""
    with engine.connect() as connection:
        answers = connection.execute(text("SELECT request_id, answered_at, score FROM follow_ups "
                                          "WHERE answered_at IS NOT NULL")).all()
        entries = connection.execute(text("SELECT request_id, entry_id FROM request_entries")).all()
    chosen: dict[int, set[str]] = {}
    for request_id, entry_id in entries:
        chosen.setdefault(request_id, set()).add(entry_id)
    counts: dict[str, Counter] = {}
    for request_id, when, score in answers:
        when = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        if start <= when < end:
            for key in [ALL, *(chosen.get(request_id) or [NO_ENTRY])]:
                counts.setdefault(key, Counter())[score] += 1
    return {key: tuple(counter[score] for score in range(1, 6)) for key, counter in counts.items()}
