"""The companies' satisfaction: their answers to the follow-up ("Did this help?", 1 to 5), counted per period and
per facility or programme, and the comments for the advisors.

An answer counts in the period in which the company gave it (Stockholm's days, as every figure of the outcomes),
under every catalogue entry its request chose (a request with two entries counts under both, so the rows may add up
to more than all answers), or under "no entry chosen". The figures are counts per score, grouped in SQL; the mean
and the share of 4 and 5 are computed from those counts. Comments are personal data: they are shown to signed-in
advisors only, never in the funder's report, and erasure blanks them (the score stays).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, select

from support_requests.database import translate_database_errors
from support_requests.follow_up_answers import SCORES
from support_requests.response_times import NO_ENTRY
from support_requests.tables import EntryRow, FollowUpRow, RequestRow

ALL = "all"
"""The key of the row of all answers."""

SATISFIED = (4, 5)
"""The scores that count as satisfied."""


@dataclass(frozen=True)
class SatisfactionRow:
    """The answers of a group: how many gave each score.

    Attributes:
        key: an entry id, :data:`ALL` or :data:`~support_requests.response_times.NO_ENTRY`.
        counts: answers with score 1, 2, 3, 4 and 5, in that order.
    """

    key: str
    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def answers(self) -> int:
        """How many answers the group has."""
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        """The mean score (1 to 5), None without answers."""
        return sum(score * n for score, n in zip(SCORES, self.counts)) / self.answers if self.answers else None

    @property
    def satisfied(self) -> int:
        """Answers of 4 or 5."""
        return sum(n for score, n in zip(SCORES, self.counts) if score in SATISFIED)

    @property
    def satisfied_share(self) -> float | None:
        """The share of answers of 4 or 5, from 0 to 1; None without answers."""
        return self.satisfied / self.answers if self.answers else None


@dataclass(frozen=True)
class Satisfaction:
    """The answers given in a period.

    Attributes:
        overall: every answer once.
        by_entry: per chosen entry (and the requests without one), most answers first, ties by key.
        queued: follow-ups whose email was due in the period (sent, or still waiting for delivery).
    """

    overall: SatisfactionRow
    by_entry: tuple[SatisfactionRow, ...]
    queued: int


@dataclass(frozen=True)
class FollowUpComment:
    """A company's comment, for the advisors: the request, when it was given, the score and the text (escape it
    when showing it: it is what the company typed)."""

    reference: str
    answered_at: dt.datetime
    score: int
    comment: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class FollowUpRecord:
    """A request's follow-up, for the console's request page.

    Attributes:
        created_at: when the request was completed and the follow-up queued.
        due_at: when its email was (or will be) sent.
        expires_at: when the link stops working.
        answered_at, score, comment: the answer, None until there is one (comment also when none was written).
    """

    created_at: dt.datetime
    due_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    score: int | None
    comment: str | None


class SatisfactionQueries:
    """Reads the follow-ups' answers from the request database.

    Args:
        engine: the request database, migrated.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    def summary(self, start: dt.datetime, end: dt.datetime) -> Satisfaction:
        """The answers given in ``[start, end)``: all of them, and per chosen entry.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        answered = (FollowUpRow.answered_at >= start, FollowUpRow.answered_at < end,
                    FollowUpRow.score.is_not(None))
        overall = select(FollowUpRow.score, func.count()).where(*answered).group_by(FollowUpRow.score)
        per_entry = (select(EntryRow.entry_id, FollowUpRow.score, func.count(func.distinct(FollowUpRow.id)))
                     .select_from(FollowUpRow)
                     .join(EntryRow, EntryRow.request_id == FollowUpRow.request_id, isouter=True)
                     .where(*answered).group_by(EntryRow.entry_id, FollowUpRow.score))
        queued = select(func.count()).select_from(FollowUpRow).where(FollowUpRow.due_at >= start, FollowUpRow.due_at < end)
        counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(SCORES))
        for score, n in self._rows(overall):
            counts[ALL][int(score) - 1] += int(n)
        for entry_id, score, n in self._rows(per_entry):
            counts[entry_id or NO_ENTRY][int(score) - 1] += int(n)
        rows = {key: SatisfactionRow(key, tuple(values)) for key, values in counts.items()}  # type: ignore[arg-type]
        by_entry = sorted((row for key, row in rows.items() if key != ALL), key=lambda row: (-row.answers, row.key))
        return Satisfaction(overall=rows.get(ALL, SatisfactionRow(ALL)), by_entry=tuple(by_entry),
                            queued=int(self._rows(queued)[0][0]))

    def comments(self, start: dt.datetime, end: dt.datetime, limit: int = 200) -> list[FollowUpComment]:
        """The comments given in ``[start, end)``, newest first (ties by reference), at most ``limit``; erased
        comments are left out.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        query = (select(FollowUpRow.id, RequestRow.reference, FollowUpRow.answered_at, FollowUpRow.score,
                        FollowUpRow.comment)
                 .join(RequestRow, RequestRow.id == FollowUpRow.request_id)
                 .where(FollowUpRow.answered_at >= start, FollowUpRow.answered_at < end,
                        FollowUpRow.comment.is_not(None), RequestRow.erased_at.is_(None))
                 .order_by(FollowUpRow.answered_at.desc(), RequestRow.reference).limit(limit))
        found = self._rows(query)
        entries: dict[int, list[str]] = defaultdict(list)
        if found:
            for follow_up_id, entry_id in self._rows(
                    select(FollowUpRow.id, EntryRow.entry_id)
                    .join(EntryRow, EntryRow.request_id == FollowUpRow.request_id)
                    .where(FollowUpRow.id.in_([row.id for row in found]))
                    .order_by(FollowUpRow.id, EntryRow.position)):
                entries[follow_up_id].append(entry_id)
        return [FollowUpComment(reference=row.reference, answered_at=row.answered_at, score=int(row.score),
                                comment=row.comment, entry_ids=tuple(entries[row.id])) for row in found]

    def for_request(self, reference: str) -> FollowUpRecord | None:
        """The follow-up of the request ``reference`` (as stored: upper case), or None when it has none.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        query = (select(FollowUpRow.created_at, FollowUpRow.due_at, FollowUpRow.expires_at, FollowUpRow.answered_at,
                        FollowUpRow.score, FollowUpRow.comment)
                 .join(RequestRow, RequestRow.id == FollowUpRow.request_id).where(RequestRow.reference == reference))
        found = self._rows(query)
        if not found:
            return None
        row = found[0]
        return FollowUpRecord(created_at=row.created_at, due_at=row.due_at, expires_at=row.expires_at,
                              answered_at=row.answered_at, score=row.score, comment=row.comment)

    def _rows(self, query: Select[Any]) -> Sequence[Any]:
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return connection.execute(query).all()
