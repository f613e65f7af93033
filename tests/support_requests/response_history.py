"""A seeded history of support requests with known response times and waiting days, shared by the data-layer,
CLI and console tests.

Times are UTC; Stockholm is UTC+1 in winter and UTC+2 in summer (29 March to 25 October 2026). Working days
exclude weekends, Swedish public holidays and Midsummer, Christmas and New Year's Eves: Easter 2026 is Good
Friday 3 April to Easter Monday 6 April; Midsummer Eve is Friday 19 June; Epiphany is Wednesday 6 January 2027.

| req | received (UTC)          | entries                     | what advisors did                                | first action | hand-over |
|-----|-------------------------|-----------------------------|--------------------------------------------------|--------------|-----------|
| A   | Thu 2026-04-02 08:00    | vecura-gmp                  | eva assigned Tue 04-07 08:00, in progress 04-08,  | 120 h        | 168 h     |
|     | (Maundy Thursday)       |                             | connected 04-09 08:00                             |              |           |
| B   | Mon 2026-06-15 08:00    | vecura-gmp, cryo-em-solna   | olle's note 06-15 20:00, olle assigned 06-16,     | 12 h         | 168 h     |
|     |                         |                             | in progress 06-17, connected 06-22 08:00          |              |           |
| C   | Tue 2026-12-22 09:00    | cryo-em-solna               | nothing: new, waiting over Christmas              | -            | -         |
| D   | 2026-05-05 09:00        | vecura-gmp                  | console intake, in progress 10:00: not in the     | -            | -         |
|     |                         |                             | response times                                    |              |           |
| E   | Sat 2026-03-28 10:00    | (none)                      | eva assigned 03-29 10:00 (the clocks went forward | 24 h         | -         |
|     |                         |                             | in between: still 24 hours), in progress 03-30    |              |           |
| F   | Thu 2026-04-02 10:00    | (none)                      | nothing: new, waiting over Easter                 | -            | -         |
| G   | Wed 2026-06-17 08:00    | flow-biomedicum             | eva assigned 09:00: assigned, waiting over         | 1 h          | -         |
|     |                         |                             | Midsummer                                         |              |           |
| H   | Wed 2026-04-01 22:30    | (none)                      | nothing: received Thursday 2 April 00:30 in       | -            | -         |
|     |                         |                             | Stockholm                                         |              |           |
| I   | Wed 2026-04-01 21:30    | (none)                      | nothing: received Wednesday 1 April 23:30 in      | -            | -         |
|     |                         |                             | Stockholm                                         |              |           |

Known answers for the requests received in 2026 (A, B, C, E, F, G, H, I: eight; D is an intake):

- first action: measured 4 of 8, hours [1, 12, 24, 120]: median 18, 90th percentile 91.2 (24 + 0.7 x 96);
- hand-over: measured 2 of 8, [168, 168]: median and 90th percentile 168;
- per advisor: eva (A, E, G) [1, 24, 120]: median 24, p90 100.8; olle (B) 12 and 12; unassigned (C, F, H, I):
  4 requests, none measured;
- per entry: vecura-gmp (A, B) [12, 120]: median 66, p90 109.2, hand-over 168; cryo-em-solna (B, C): 1 of 2, 12;
  flow-biomedicum (G): 1; no entry (E, F, H, I): 1 of 4, 24.

Waiting more than 5 working days (received day excluded, today included):

- I (received Wed 1 April): 2, 7, 8, 9, 10 April are 5, so it is flagged from Monday 13 April (6);
- F and H (received Thu 2 April): 7, 8, 9, 10, 13 April are 5, flagged from Tuesday 14 April (6): without
  Easter they would be flagged on Friday 10 April;
- G (received Wed 17 June, assigned): 18, 22, 23, 24, 25 June are 5, flagged from Friday 26 June;
- C (received Tue 22 December): 23, 28, 29, 30 December and 4 January 2027 are 5, flagged from Tuesday
  5 January 2027 (6).
"""

from __future__ import annotations

import datetime as dt

from support_requests.model import RequestStatus
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, make_draft

UTC = dt.UTC
AFTER = dt.datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
"""Where the clock stands when the history has been seeded."""


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def seed_responses(store: RequestStore, clock: FakeClock) -> dict[str, str]:
    """Store A to I of the module's table on ``store``, whose clock is ``clock``; returns their references by
    letter. The clock ends at :data:`AFTER`."""
    references: dict[str, str] = {}

    def create(name: str, when: dt.datetime, entries: list[str], **fields) -> str:
        clock.now = when
        draft = make_draft(clock, company_name=f"{name} Company AB", email=f"{name.lower()}@example.org",
                           org_number=None, entry_ids=entries, conversation_id=f"conv-{name}", **fields)
        references[name] = store.create(draft, f"resp-{name}").reference
        return references[name]

    def then(when: dt.datetime, action, *args, **kwargs) -> None:
        clock.now = when
        action(*args, **kwargs)

    a = create("A", at(2026, 4, 2, 8, 0), ["vecura-gmp"])
    then(at(2026, 4, 7, 8, 0), store.assign, a, "eva", actor="eva")
    then(at(2026, 4, 8, 8, 0), store.set_status, a, RequestStatus.IN_PROGRESS, actor="eva")
    then(at(2026, 4, 9, 8, 0), store.set_status, a, RequestStatus.CONNECTED, actor="eva")
    b = create("B", at(2026, 6, 15, 8, 0), ["vecura-gmp", "cryo-em-solna"])
    then(at(2026, 6, 15, 20, 0), store.add_note, b, "olle", "Called the company back.")
    then(at(2026, 6, 16, 8, 0), store.assign, b, "olle", actor="olle")
    then(at(2026, 6, 17, 8, 0), store.set_status, b, RequestStatus.IN_PROGRESS, actor="olle")
    then(at(2026, 6, 22, 8, 0), store.set_status, b, RequestStatus.CONNECTED, actor="olle")
    create("C", at(2026, 12, 22, 9, 0), ["cryo-em-solna"])
    d = create("D", at(2026, 5, 5, 9, 0), ["vecura-gmp"], channel="console")
    then(at(2026, 5, 5, 10, 0), store.set_status, d, RequestStatus.IN_PROGRESS, actor="eva")
    e = create("E", at(2026, 3, 28, 10, 0), [])
    then(at(2026, 3, 29, 10, 0), store.assign, e, "eva", actor="eva")
    then(at(2026, 3, 30, 10, 0), store.set_status, e, RequestStatus.IN_PROGRESS, actor="eva")
    create("F", at(2026, 4, 2, 10, 0), [])
    g = create("G", at(2026, 6, 17, 8, 0), ["flow-biomedicum"])
    then(at(2026, 6, 17, 9, 0), store.assign, g, "eva", actor="eva")
    create("H", at(2026, 4, 1, 22, 30), [])
    create("I", at(2026, 4, 1, 21, 30), [])
    clock.now = AFTER
    return references
