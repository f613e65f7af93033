"""A seeded tracker store and request history with a known funnel, shared by the data-layer and console tests.

Times are UTC; Stockholm is UTC+1 until the clocks go forward on Sunday 29 March 2026 (01:00 UTC), UTC+2 after.
The period asked for is Monday 23 March to Sunday 5 April 2026: the weeks of 23 and 30 March.

| conv | first message (UTC)           | Stockholm                  | week   | in the assistant        | requests                     |
|------|-------------------------------|----------------------------|--------|-------------------------|------------------------------|
| c1   | Sun 29 Mar 21:30              | Sun 23:30 (summer time)    | 23 Mar | search, details         | one, in progress then closed |
| c2   | Sun 29 Mar 22:30              | Mon 30 Mar 00:30           | 30 Mar | search, contact         | one, new                     |
| c3   | Sat 28 Mar 22:30              | Sat 23:30 (winter time)    | 23 Mar | search (site)           | none                         |
| c4   | Mon 23 Mar 08:00, no message  |                            |        | greeting only           | none: not a conversation     |
| c5   | Tue 31 Mar 10:00              |                            | 30 Mar | funding search          | one, in progress, connected  |
| c6   | Wed 1 Apr 10:00               |                            | 30 Mar | nothing                 | one, closed at once (spam)   |
| c7   | Sun 22 Mar 22:30              | Sun 23:30 (winter time)    | 16 Mar | search                  | one: before the period       |
| c8   | Sun 5 Apr 21:30               | Sun 23:30                  | 30 Mar | contact                 | two, both new                |

Known answers (conversations, with a search, details or contact viewed, request opened, in progress, completed):

- week of 23 March: 2, 2, 1, 1, 1, 1 (c1, c3);
- week of 30 March: 4, 2, 2, 4, 1, 0 (c2, c5, c6, c8: c6 opened a request without a search, c8's two requests
  count once);
- the period: 6, 4, 3, 5, 2, 1.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import MetaData, create_engine, insert

from support_requests.model import RequestStatus
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, events_table, make_draft

UTC = dt.UTC
PERIOD = (dt.date(2026, 3, 23), dt.date(2026, 4, 5))
WEEKS = {dt.date(2026, 3, 23): (2, 2, 1, 1, 1, 1), dt.date(2026, 3, 30): (4, 2, 2, 4, 1, 0)}
TOTAL = (6, 4, 3, 5, 2, 1)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


CONVERSATIONS: dict[str, tuple[dt.datetime, bool, list[str]]] = {
    # id: (first event, whether the company wrote, the assistant's actions after it)
    "c1": (at(2026, 3, 29, 21, 30), True, ["action_search_catalogue", "action_show_details"]),
    "c2": (at(2026, 3, 29, 22, 30), True, ["action_search_catalogue", "action_show_contact"]),
    "c3": (at(2026, 3, 28, 22, 30), True, ["action_restrict_site"]),
    "c4": (at(2026, 3, 23, 8, 0), False, ["utter_greet"]),
    "c5": (at(2026, 3, 31, 10, 0), True, ["action_show_funding"]),
    "c6": (at(2026, 4, 1, 10, 0), True, ["utter_greet"]),
    "c7": (at(2026, 3, 22, 22, 30), True, ["action_search_catalogue"]),
    "c8": (at(2026, 4, 5, 21, 30), True, ["action_show_contact"]),
}


def seed_tracker(url: str) -> None:
    """Write the conversations of the table into a new tracker store at ``url`` (Rasa's ``events`` table)."""
    engine = create_engine(url)
    metadata = MetaData()
    events = events_table(metadata)
    metadata.create_all(engine)
    rows: list[dict] = []

    def event(sender: str, type_name: str, moment: float, *, intent: str | None = None,
              action: str | None = None, text: str = "") -> None:
        data = {"event": type_name, "name": action} if action else {"event": type_name, "text": text}
        rows.append({"sender_id": sender, "type_name": type_name, "timestamp": moment, "intent_name": intent,
                     "action_name": action, "data": json.dumps(data)})

    for sender, (start, wrote, actions) in CONVERSATIONS.items():
        moment = start.timestamp()
        event(sender, "action", moment - 1, action="action_listen")
        if wrote:
            event(sender, "user", moment, intent="describe_need", text="hello")
        for offset, action in enumerate(actions, start=1):
            event(sender, "action", moment + offset, action=action)
        if wrote:  # a later message does not move the conversation's start
            event(sender, "user", moment + 3600, intent="affirm", text="thanks")
    with engine.begin() as connection:
        connection.execute(insert(events), rows)
    engine.dispose()


def seed_funnel_requests(store: RequestStore, clock: FakeClock) -> dict[str, str]:
    """Store the requests of the table (and an intake without a conversation); returns references by name."""
    references: dict[str, str] = {}

    def create(name: str, conversation: str | None, when: dt.datetime, **fields) -> str:
        clock.now = when
        draft = make_draft(clock, company_name=f"{name} AB", email=f"{name}@example.org", org_number=None,
                           conversation_id=conversation, **fields)
        references[name] = store.create(draft, f"funnel-{name}").reference
        return references[name]

    def move(reference: str, when: dt.datetime, *statuses: RequestStatus) -> None:
        clock.now = when
        for status in statuses:
            store.set_status(reference, status, actor="eva")

    r1 = create("r1", "c1", at(2026, 3, 29, 21, 45))
    move(r1, at(2026, 3, 31, 9, 0), RequestStatus.IN_PROGRESS, RequestStatus.CLOSED)
    create("r2", "c2", at(2026, 3, 29, 22, 45))
    r5 = create("r5", "c5", at(2026, 3, 31, 10, 30))
    move(r5, at(2026, 4, 2, 9, 0), RequestStatus.IN_PROGRESS, RequestStatus.CONNECTED)
    r6 = create("r6", "c6", at(2026, 4, 1, 10, 30))
    move(r6, at(2026, 4, 1, 11, 0), RequestStatus.CLOSED)
    create("r7", "c7", at(2026, 3, 22, 22, 45))
    create("r8a", "c8", at(2026, 4, 5, 21, 45))
    create("r8b", "c8", at(2026, 4, 6, 8, 0))
    intake = create("intake", None, at(2026, 3, 25, 9, 0), channel="console")
    move(intake, at(2026, 3, 25, 10, 0), RequestStatus.IN_PROGRESS)
    clock.now = at(2026, 4, 20, 12, 0)
    return references
