"""Where companies drop off: the funnel from a conversation with the assistant to a completed support request,
per Stockholm week.

Each conversation is counted in the week (Monday to Sunday, Europe/Stockholm) in which the company wrote its
first message, and once per step it reached, whenever it reached it (so a week's figures can still grow while its
requests are followed up):

1. **conversations**: the assistant's conversations in which the company wrote at least one message (Rasa's
   tracker store: a ``user`` event);
2. **with a search**: a catalogue search ran in it (the actions of
   :data:`~support_requests.conversations.SEARCH_ACTIONS`);
3. **details or contact viewed**: an entry's details or contact was shown
   (:data:`~support_requests.conversations.VIEW_ACTIONS`);
4. **request opened**: a support request was stored from it (the request keeps the conversation's id);
5. **request in progress**: one of its requests entered ``in_progress`` (or ``connected``) at some time;
6. **request completed**: one of its requests was closed after having been in progress (a request closed
   without ever being in progress, such as spam, is not completed).

The steps are counted independently: a company that opened a request straight from the greeting, without a
search, counts at step 4 and not at step 2. Requests an advisor opened in the console have no conversation and
are not in the funnel. Steps 1 to 3 are aggregated per conversation in the tracker store's SQL, steps 4 to 6 per
request in the request database's; the two are joined on the conversation id here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, exists, select

from support_requests.conversations import TrackerReader, TrackerState
from support_requests.database import translate_database_errors
from support_requests.model import RequestStatus
from support_requests.outcomes import Granularity, Period, local_day
from support_requests.tables import HistoryRow, RequestRow

STEPS = (("conversations", "Conversations"), ("searched", "With a search"),
         ("viewed", "Details or contact viewed"), ("requested", "Request opened"),
         ("in_progress", "Request in progress"), ("completed", "Request completed"))
"""The funnel's steps in order: attribute of :class:`FunnelWeek` and label."""

PROGRESSED = (RequestStatus.IN_PROGRESS.value, RequestStatus.CONNECTED.value)


@dataclass(frozen=True)
class FunnelWeek:
    """The conversations that started in one week (or a whole period, ``start`` its first day) and how many of
    them reached each step."""

    start: dt.date
    conversations: int = 0
    searched: int = 0
    viewed: int = 0
    requested: int = 0
    in_progress: int = 0
    completed: int = 0

    def counts(self) -> tuple[int, ...]:
        """The counts of :data:`STEPS`, in order."""
        return tuple(getattr(self, name) for name, _ in STEPS)


@dataclass(frozen=True)
class Funnel:
    """The funnel of a period: its weeks (every week, empty ones included), their total, and the tracker
    store's state (when it is not ``OK`` the conversation steps are zero and the page says why)."""

    period: Period
    weeks: tuple[FunnelWeek, ...]
    total: FunnelWeek
    state: TrackerState


class FunnelReporter:
    """Counts the funnel from the tracker store and the request database.

    Args:
        engine: the request database, migrated.
        tracker: reads Rasa's tracker store.
    """

    def __init__(self, engine: Engine, tracker: TrackerReader):
        self.engine = engine
        self.tracker = tracker

    def funnel(self, period: Period) -> Funnel:
        """The funnel of the conversations that started in ``period``, per Stockholm week. Blocks on both
        databases.

        Raises:
            StoreUnavailableError: when the request database cannot be used (an unreadable tracker store gives
                an empty funnel and its state instead).
        """
        steps = self.tracker.conversation_steps(period.start, period.end)
        requests = self._request_steps(period.start, {c.conversation_id for c in steps.conversations})
        counts: dict[dt.date, list[int]] = {start: [0] * len(STEPS)
                                            for start in Granularity.WEEK.starts(period.first, period.last)}
        for conversation in steps.conversations:
            week = Granularity.WEEK.start_of(local_day(conversation.started_at))
            requested, progressed, completed = requests.get(conversation.conversation_id, (False, False, False))
            reached = (True, conversation.searched, conversation.viewed, requested, progressed, completed)
            row = counts[week]
            for index, flag in enumerate(reached):
                row[index] += flag
        weeks = tuple(FunnelWeek(start, *row) for start, row in counts.items())
        total = FunnelWeek(period.first, *(sum(column) for column in zip(*(w.counts() for w in weeks))))
        return Funnel(period=period, weeks=weeks, total=total, state=steps.state)

    def _request_steps(self, since: dt.datetime, conversations: set[str]) -> dict[str, tuple[bool, bool, bool]]:
        """Per conversation of ``conversations``: (a request was opened, one was in progress, one completed).

        A request comes after its conversation started, so only requests stored from ``since`` are read (the
        index on ``created_at``); whether each was in progress is an ``EXISTS`` on its history."""
        if not conversations:
            return {}
        progressed = exists().where(and_(HistoryRow.request_id == RequestRow.id, HistoryRow.field == "status",
                                         HistoryRow.new_value.in_(PROGRESSED)))
        query = (select(RequestRow.conversation_id, RequestRow.status, progressed.label("progressed"))
                 .where(RequestRow.created_at >= since, RequestRow.conversation_id.is_not(None)))
        found: dict[str, tuple[bool, bool, bool]] = {}
        for row in self._rows(query):
            if row.conversation_id not in conversations:
                continue
            was_progressed = bool(row.progressed)
            completed = was_progressed and RequestStatus(row.status) is RequestStatus.CLOSED
            _, before_progressed, before_completed = found.get(row.conversation_id, (True, False, False))
            found[row.conversation_id] = (True, before_progressed or was_progressed, before_completed or completed)
        return found

    def _rows(self, query: Any) -> Sequence[Any]:
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return connection.execute(query).all()
