"""The transactional outbox: notifications stored with their request, then claimed and delivered by a worker.

Rows are written by :func:`enqueue` inside the transaction that creates the
request, so a request never exists without its notifications, nor the reverse.
A worker (:class:`support_requests.worker.OutboxWorker`) claims due rows with a
lease (on PostgreSQL the claim uses ``SELECT ... FOR UPDATE SKIP LOCKED``, so
workers never wait on or take each other's rows), delivers them, and marks each
one sent only if it still holds the claim. A worker that dies leaves its lease to
run out; the row is then claimed again.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.orm import Session

from support_requests.database import is_postgresql, session_factory, translate_database_errors
from support_requests.notifications import Notification
from support_requests.tables import OutboxRow, RequestRow

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"  # its request's personal data was erased before it went out


@dataclass(frozen=True)
class OutboxMessage:
    """A claimed notification, ready to deliver.

    Attributes:
        attempts: delivery attempts including this one.
        claim_token: proves the claim when the result is recorded.
    """

    id: int
    reference: str
    kind: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    claim_token: str

    @property
    def delivery_id(self) -> str:
        """A stable id for this notification, the same on every retry: receivers de-duplicate on it."""
        return f"navigator-outbox-{self.id}"


@dataclass(frozen=True)
class OutboxRecord:
    """One outbox row as the console and tests see it (no payload: it holds personal data)."""

    id: int
    reference: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


def enqueue(session: Session, request_id: int, notifications: Iterable[Notification], now: dt.datetime, *,
            due: dt.datetime | None = None) -> None:
    """Add ``notifications`` for a request to the session's transaction, due at ``due`` (default: at once)."""
    for notification in notifications:
        session.add(OutboxRow(
            request_id=request_id, kind=notification.kind, recipient=notification.recipient,
            payload=json.dumps(notification.payload, ensure_ascii=False, sort_keys=True),
            status=PENDING, attempts=0, next_attempt_at=due or now, created_at=now,
        ))


def cancel_and_scrub(session: Session, request_ids: Sequence[int]) -> None:
    """Forget the payloads of these requests' notifications, and cancel those not yet sent (used by erasure)."""
    if not request_ids:
        return
    rows = OutboxRow.__table__.c
    session.execute(update(OutboxRow.__table__).where(rows.request_id.in_(request_ids), rows.status == PENDING)
                    .values(status=CANCELLED, lease_until=None, claim_token=None))
    session.execute(update(OutboxRow.__table__).where(rows.request_id.in_(request_ids)).values(payload="{}"))


class Outbox:
    """The outbox of one database: claim due rows and record delivery results.

    Every method takes ``now`` (UTC) from the caller, so a worker's clock decides
    what is due; none of them blocks on another worker's claimed rows.
    """

    def __init__(self, engine: Engine):
        self._engine = engine
        self._sessions = session_factory(engine)

    def claim(self, kinds: Sequence[str], limit: int, lease: dt.timedelta, now: dt.datetime,
              max_attempts: int) -> tuple[list[OutboxMessage], list[OutboxRecord]]:
        """Claim up to ``limit`` due rows of ``kinds``, oldest first, for ``lease``.

        A due row whose attempts are already used up (its last worker died while
        delivering it) is marked failed instead of being claimed again.

        Returns:
            The claimed messages, and the records of rows just marked failed that way.
        """
        if not kinds or limit < 1:
            return [], []
        rows = OutboxRow.__table__.c
        due = (select(rows.id)
               .where(rows.status == PENDING, rows.kind.in_(list(kinds)), rows.next_attempt_at <= now,
                      or_(rows.lease_until.is_(None), rows.lease_until <= now))
               .order_by(rows.next_attempt_at, rows.id).limit(limit))
        if is_postgresql(self._engine):
            due = due.with_for_update(skip_locked=True)
        claimed: list[OutboxMessage] = []
        exhausted: list[OutboxRecord] = []
        with translate_database_errors(self._engine), self._sessions.begin() as session:
            ids = list(session.scalars(due))
            if not ids:
                return [], []
            found = session.execute(select(OutboxRow, RequestRow.reference)
                                    .join(RequestRow, RequestRow.id == OutboxRow.request_id)
                                    .where(OutboxRow.id.in_(ids)).order_by(OutboxRow.id)).all()
            for row, reference in found:
                if row.attempts >= max_attempts:
                    row.status, row.lease_until, row.claim_token = FAILED, None, None
                    row.last_error = (row.last_error or "")[:150] + " (abandoned by its worker)"
                    exhausted.append(_record(row, reference))
                    continue
                row.attempts += 1
                row.lease_until = now + lease
                row.claim_token = str(uuid.uuid4())
                claimed.append(OutboxMessage(id=row.id, reference=reference, kind=row.kind,
                                             recipient=row.recipient, payload=json.loads(row.payload),
                                             attempts=row.attempts, claim_token=row.claim_token))
        return claimed, exhausted

    def mark_sent(self, message: OutboxMessage, now: dt.datetime) -> bool:
        """Record a delivery. Returns False if the claim was lost meanwhile (the lease ran out and another took it)."""
        return self._finish(message, status=SENT, sent_at=now, last_error=None)

    def reschedule(self, message: OutboxMessage, error: str, next_attempt_at: dt.datetime) -> bool:
        """Release a failed claim for another attempt at ``next_attempt_at``. Returns False if the claim was lost."""
        return self._finish(message, status=PENDING, next_attempt_at=next_attempt_at, last_error=error[:200])

    def mark_failed(self, message: OutboxMessage, error: str) -> bool:
        """Give up on a message for good. Returns False if the claim was lost."""
        return self._finish(message, status=FAILED, last_error=error[:200])

    def release(self, message: OutboxMessage) -> bool:
        """Hand back a claimed message that was not attempted (the worker is stopping); its attempt is not counted."""
        return self._finish(message, attempts=OutboxRow.__table__.c.attempts - 1)

    def pending_kinds(self) -> set[str]:
        """The kinds that have pending rows."""
        rows = OutboxRow.__table__.c
        with translate_database_errors(self._engine), self._sessions() as session:
            return set(session.scalars(select(rows.kind).where(rows.status == PENDING).distinct()))

    def _finish(self, message: OutboxMessage, **values: Any) -> bool:
        """End a claim with ``values`` (status pending unless given), only if ``message`` still holds it."""
        rows = OutboxRow.__table__.c
        statement = (update(OutboxRow.__table__)
                     .where(rows.id == message.id, rows.claim_token == message.claim_token, rows.status == PENDING)
                     .values(**{"status": PENDING, "lease_until": None, "claim_token": None, **values}))
        with translate_database_errors(self._engine), self._sessions.begin() as session:
            return session.execute(statement).rowcount == 1

    def records(self, reference: str | None = None) -> list[OutboxRecord]:
        """Every outbox row (or those of one request), oldest first."""
        query = (select(OutboxRow, RequestRow.reference).join(RequestRow, RequestRow.id == OutboxRow.request_id)
                 .order_by(OutboxRow.id))
        if reference is not None:
            query = query.where(RequestRow.reference == reference)
        with translate_database_errors(self._engine), self._sessions() as session:
            return [_record(row, ref) for row, ref in session.execute(query).all()]

    def counts(self) -> dict[str, int]:
        """How many rows are in each status (statuses with no rows are left out)."""
        rows = OutboxRow.__table__.c
        with translate_database_errors(self._engine), self._sessions() as session:
            return {status: n for status, n in session.execute(select(rows.status, func.count())
                                                               .group_by(rows.status).order_by(rows.status))}

    def next_due(self, kinds: Sequence[str]) -> dt.datetime | None:
        """When the earliest pending row of ``kinds`` is due, or None when none is pending."""
        rows = OutboxRow.__table__.c
        query = select(func.min(rows.next_attempt_at)).where(rows.status == PENDING, rows.kind.in_(list(kinds)))
        with translate_database_errors(self._engine), self._sessions() as session:
            return session.execute(query).scalar_one_or_none()


def _record(row: OutboxRow, reference: str) -> OutboxRecord:
    return OutboxRecord(id=row.id, reference=reference, kind=row.kind, status=row.status, attempts=row.attempts,
                        next_attempt_at=row.next_attempt_at, sent_at=row.sent_at, last_error=row.last_error)
