"""The log of unmet needs: what companies asked for that the catalogue answered poorly.

A need is noted for one of two reasons (:class:`UnmetReason`): the best match was weak, or the company said
none of the results fit. Rows live in the ``unmet_needs`` table of the request database
(:class:`support_requests.tables.UnmetNeedRow`). The table never holds a conversation id, only its SHA-256
(``conversation_key``), so erasing a company's conversations can find its rows (:meth:`DemandLog.erase_conversations`).
Rows older than the retention period are deleted by :meth:`DemandLog.purge`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, delete, func, select
from sqlalchemy.orm import Session

from support_requests.database import session_factory, translate_database_errors
from support_requests.model import utc_now
from support_requests.tables import UnmetNeedRow

MAX_NEED_CHARS = 1000
"""Longer needs are cut to this many characters before they are stored."""

MAX_ENTRY_ID_CHARS = 100
_DELETE_CHUNK = 500


class DemandError(ValueError):
    """A value given to the demand log cannot be accepted; the message names the argument, not the value."""


class UnmetReason(str, enum.Enum):
    """Why a need was noted."""

    WEAK = "weak"
    """The best match's similarity was under the search policy's threshold, or nothing matched."""
    NONE_FIT = "none_fit"
    """The company said none of the results fit."""

    @classmethod
    def parse(cls, value: UnmetReason | str) -> UnmetReason:
        """The reason named ``value`` (``weak`` or ``none_fit``).

        Raises:
            DemandError: for any other value.
        """
        if isinstance(value, UnmetReason):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise DemandError("reason must be 'weak' or 'none_fit'") from None


@dataclass(frozen=True)
class UnmetNeed:
    """One noted need.

    Attributes:
        id: the row id; later needs have larger ids.
        created_at: when it was noted (UTC).
        need: the company's words, at most :data:`MAX_NEED_CHARS` characters.
        reason: why it was noted.
        best_score: cosine similarity of the need and its best match when it was noted (about 0.2 is
            unrelated, 0.5 and above close, for the default model); ``None`` when nothing matched or
            the company rejected the results.
        best_entry_id: the closest catalogue entry then (for ``none_fit``: the first result the company
            rejected), or ``None``.
    """

    id: int
    created_at: dt.datetime
    need: str
    reason: UnmetReason
    best_score: float | None
    best_entry_id: str | None


def conversation_key(conversation_id: str) -> str:
    """The SHA-256 (hex) of a conversation id: how the log refers to a conversation without keeping its id."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def clean_need(text: str) -> str:
    """``text`` with its white space collapsed, cut to :data:`MAX_NEED_CHARS` characters.

    Raises:
        DemandError: when nothing is left.
    """
    if not isinstance(text, str):
        raise DemandError("need must be text")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise DemandError("need is empty")
    return cleaned[:MAX_NEED_CHARS]


class DemandLog:
    """Unmet needs in the request database.

    Args:
        engine: the request database (``RequestStore.engine``), already migrated.
        clock: returns the current UTC time (tests pass a fake clock).
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now):
        self.engine = engine
        self.clock = clock
        self._sessions = session_factory(engine)

    def add(self, need: str, reason: UnmetReason | str, *, best_score: float | None = None,
            best_entry_id: str | None = None, conversation_id: str | None = None) -> UnmetNeed:
        """Note a need; one conversation's same need is noted once.

        When the conversation already noted the same words, no row is added: a ``none_fit`` after a
        ``weak`` turns the row into ``none_fit`` (the stronger signal), anything else leaves it as it was.

        Args:
            need: the company's words (white space collapsed, cut to :data:`MAX_NEED_CHARS` characters).
            reason: ``weak`` or ``none_fit``.
            best_score: the best match's cosine similarity, if any.
            best_entry_id: the closest catalogue entry's id, if any.
            conversation_id: the conversation's id; only its SHA-256 is stored.

        Returns:
            The stored need (the existing one for a repeat).

        Raises:
            DemandError: for an empty need, an unknown reason or a score that is not a finite number.
            StoreUnavailableError: when the database cannot be used.
        """
        text = clean_need(need)
        why = UnmetReason.parse(reason)
        score = _score(best_score)
        entry_id = (best_entry_id or "").strip()[:MAX_ENTRY_ID_CHARS] or None
        key = conversation_key(conversation_id) if conversation_id else None
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            row = _same_need(session, key, text) if key else None
            if row is None:
                row = UnmetNeedRow(created_at=self.clock(), need=text, reason=why.value, best_score=score,
                                   best_entry_id=entry_id, conversation_key=key)
                session.add(row)
                session.flush()
            elif why is UnmetReason.NONE_FIT and row.reason != why.value:
                row.reason = why.value
                row.best_entry_id = row.best_entry_id or entry_id
            return _to_need(row)

    def needs(self, *, since: dt.datetime | None = None, reasons: Collection[UnmetReason | str] = (),
              limit: int = 2000) -> list[UnmetNeed]:
        """The latest needs, newest first (ties by id).

        Args:
            since: only needs noted at or after this time (time-zone-aware).
            reasons: only needs with one of these reasons (empty: all).
            limit: at most this many.

        Raises:
            DemandError: for a naive ``since``, an unknown reason or a limit under 1.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise DemandError("limit must be a whole number of at least 1")
        query = _filtered(select(UnmetNeedRow), since, reasons)
        query = query.order_by(UnmetNeedRow.created_at.desc(), UnmetNeedRow.id.desc()).limit(limit)
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return [_to_need(row) for row in connection.execute(query)]

    def times(self, *, since: dt.datetime | None = None,
              reasons: Collection[UnmetReason | str] = ()) -> list[dt.datetime]:
        """When each matching need was noted, oldest first: what the weekly chart counts.

        Args:
            since: only needs noted at or after this time (time-zone-aware).
            reasons: only needs with one of these reasons (empty: all).
        """
        query = _filtered(select(UnmetNeedRow.created_at), since, reasons).order_by(UnmetNeedRow.created_at)
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def count(self, *, since: dt.datetime | None = None, reasons: Collection[UnmetReason | str] = ()) -> int:
        """How many needs match (see :meth:`needs` for the arguments)."""
        query = _filtered(select(func.count()).select_from(UnmetNeedRow), since, reasons)
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def purge(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Delete the needs noted ``retention_days`` or more days before ``now`` (default: the clock).

        Returns:
            How many were deleted.

        Raises:
            DemandError: for a retention that is not a whole number of days, 0 or more.
        """
        if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 0:
            raise DemandError("retention_days must be a whole number of days, 0 or more")
        cutoff = (now or self.clock()) - dt.timedelta(days=retention_days)
        with translate_database_errors(self.engine), self.engine.begin() as connection:
            return connection.execute(delete(UnmetNeedRow).where(UnmetNeedRow.created_at <= cutoff)).rowcount

    def erase_conversations(self, conversation_ids: Iterable[str]) -> int:
        """Delete every need noted in these conversations.

        Returns:
            How many were deleted (0 for no ids).
        """
        keys = sorted({conversation_key(c) for c in conversation_ids if c})
        deleted = 0
        if not keys:
            return 0
        with translate_database_errors(self.engine), self.engine.begin() as connection:
            for start in range(0, len(keys), _DELETE_CHUNK):
                chunk = keys[start:start + _DELETE_CHUNK]
                deleted += connection.execute(
                    delete(UnmetNeedRow).where(UnmetNeedRow.conversation_key.in_(chunk))).rowcount
        return deleted


def _same_need(session: Session, key: str, text: str) -> UnmetNeedRow | None:
    query = (select(UnmetNeedRow).where(UnmetNeedRow.conversation_key == key, UnmetNeedRow.need == text)
             .order_by(UnmetNeedRow.id).limit(1))
    return session.scalars(query).first()


def _filtered(query: Select[Any], since: dt.datetime | None,
              reasons: Collection[UnmetReason | str]) -> Select[Any]:
    if since is not None:
        if since.utcoffset() is None:
            raise DemandError("since must be time-zone-aware")
        query = query.where(UnmetNeedRow.created_at >= since)
    if reasons:
        query = query.where(UnmetNeedRow.reason.in_(sorted({UnmetReason.parse(r).value for r in reasons})))
    return query


def _score(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise DemandError("best_score must be a finite number or None")
    return float(value)


def _to_need(row: Any) -> UnmetNeed:
    created = row.created_at
    if created.tzinfo is None:  # a Core row read from SQLite: naive UTC
        created = created.replace(tzinfo=dt.timezone.utc)
    return UnmetNeed(id=row.id, created_at=created, need=row.need, reason=UnmetReason(row.reason),
                     best_score=row.best_score, best_entry_id=row.best_entry_id)
