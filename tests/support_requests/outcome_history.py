"""A seeded history of support requests with known outcome figures, shared by the data-layer, CLI and console tests.

The entry ids are those of the sample catalogue (tests/fakes.py ``SAMPLE``): ``vecura-gmp`` (facility,
Flemingsberg), ``flow-biomedicum`` (facility, Hagastaden/Solna; lab space in these tests: ``LAB_SPACE``),
``almi-loans`` (programme, elsewhere), ``cryo-em-solna`` (facility, Hagastaden/Solna) and ``contact-desk`` (the
expert who answers for ``vecura-gmp`` and ``flow-flemingsberg``); ``gone-entry`` is not in the catalogue.

Times are UTC; Stockholm is UTC+1 in winter and UTC+2 in summer (from 29 March 2026, 01:00 UTC).

- r1, web: Alpha AB 556036-0793, created 2025-12-31 22:30 (New Year's Eve, 23:30 in Stockholm), in progress
  2025-12-31 23:30 UTC = 00:30 on New Year's Day in Stockholm: Alpha is reached in **January 2026** (December
  in UTC).
- r2, web: "ALPHA aktiebolag", the same number, created 2026-02-10 09:00, in progress 10:00: Alpha again, still
  one company.
- r3, console: Beta AB, no number, created 2026-01-06 09:00 (Epiphany, a holiday), nothing more: an intake,
  Beta is reached in January.
- r4, web: Gamma AB 556677-8899, created 2026-01-10 09:00, assigned 2026-01-12: never in progress, not reached.
- r5, web: Gamma AB, created 2026-03-01 09:00, withdrawn 2026-03-02: not reached.
- r6, web: Delta AB, no number, no entries, created 2026-03-29 00:30 (the night the clocks go forward), in
  progress 2026-03-29 22:30 UTC = Monday 30 March 00:30 in Stockholm, connected 2026-04-02, closed 2026-04-10:
  Delta is reached in the ISO week of 30 March (the week before in UTC).
- r7, web: Epsilon AB, no number, created 2026-06-19 10:00 (Midsummer Eve), in progress 11:00: Epsilon is
  reached in June.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from support_requests.model import RequestStatus
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, make_draft

UTC = dt.timezone.utc
LAB_SPACE = frozenset({"flow-biomedicum"})
AFTER = dt.datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
"""Where the clock stands when the history has been seeded."""


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@dataclass(frozen=True)
class History:
    """The references of the seeded requests, r1 to r7."""

    references: dict[str, str]


def seed_history(store: RequestStore, clock: FakeClock) -> History:
    """Store r1 to r7 of the module's table on ``store``, whose clock is ``clock``; the clock ends at :data:`AFTER`."""
    references: dict[str, str] = {}

    def create(name: str, when: dt.datetime, **fields) -> str:
        clock.now = when
        request = store.create(make_draft(clock, **fields), f"seed-{name}")
        references[name] = request.reference
        return request.reference

    def move(reference: str, when: dt.datetime, status: RequestStatus) -> None:
        clock.now = when
        store.set_status(reference, status, actor="eva")

    r1 = create("r1", at(2025, 12, 31, 22, 30), company_name="Alpha AB", org_number="556036-0793",
                email="anna@alpha.example.org", entry_ids=["vecura-gmp"], conversation_id="conv-r1")
    move(r1, at(2025, 12, 31, 23, 30), RequestStatus.IN_PROGRESS)
    create("r3", at(2026, 1, 6, 9, 0), company_name="Beta AB", org_number=None, channel="console",
                email="bo@beta.example.org", entry_ids=["flow-biomedicum"], conversation_id=None)
    r4 = create("r4", at(2026, 1, 10, 9, 0), company_name="Gamma AB", org_number="556677-8899",
                email="gun@gamma.example.org", entry_ids=["cryo-em-solna"], conversation_id="conv-r4")
    clock.now = at(2026, 1, 12, 9, 0)
    store.assign(r4, "eva", actor="eva")
    r2 = create("r2", at(2026, 2, 10, 9, 0), company_name="ALPHA aktiebolag", org_number="5560360793",
                email="anna@alpha.example.org", entry_ids=["almi-loans"], conversation_id="conv-r2")
    move(r2, at(2026, 2, 10, 10, 0), RequestStatus.IN_PROGRESS)
    r5 = create("r5", at(2026, 3, 1, 9, 0), company_name="Gamma AB", org_number="556677-8899",
                email="gun@gamma.example.org", entry_ids=["contact-desk"], conversation_id="conv-r5")
    move(r5, at(2026, 3, 2, 9, 0), RequestStatus.WITHDRAWN)
    r6 = create("r6", at(2026, 3, 29, 0, 30), company_name="Delta AB", org_number=None,
                email="dag@delta.example.org", entry_ids=[], conversation_id="conv-r6")
    move(r6, at(2026, 3, 29, 22, 30), RequestStatus.IN_PROGRESS)
    move(r6, at(2026, 4, 2, 9, 0), RequestStatus.CONNECTED)
    move(r6, at(2026, 4, 10, 9, 0), RequestStatus.CLOSED)
    r7 = create("r7", at(2026, 6, 19, 10, 0), company_name="Epsilon AB", org_number=None,
                email="eva@epsilon.example.org", entry_ids=["vecura-gmp", "gone-entry"], conversation_id="conv-r7")
    move(r7, at(2026, 6, 19, 11, 0), RequestStatus.IN_PROGRESS)
    clock.now = AFTER
    return History(references)
