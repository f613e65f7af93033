"""The support-request store: create, follow up, look up and erase requests, on SQLite or PostgreSQL.

Every change is one transaction that also writes its history rows (and, for a
new request, its notifications to the outbox). Inputs are validated before any
database work, so a refused call stores nothing. Logs name references only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support_requests.companies import link_company
from support_requests.database import open_engine, session_factory, translate_database_errors
from support_requests.erasure import erase_rows
from support_requests.errors import RequestNotFoundError, RequestValidationError
from support_requests.follow_up import FollowUpPolicy, is_completion, queue_follow_up
from support_requests.migrations import upgrade_database
from support_requests.model import ErasureReport, Recipients, RequestDraft, RequestStatus, SupportRequest, utc_now
from support_requests.notifications import creation_notifications
from support_requests.outbox import Outbox, enqueue
from support_requests.references import allocate_reference, parse_reference
from support_requests.rows import add_note, change_status, new_row, to_model
from support_requests.tables import HistoryRow, RequestRow
from support_requests.validation import (
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    email_key,
    idempotency_digest,
    normalise_email,
    validate_actor,
    validate_draft,
    validate_text,
)
from support_requests.workflow import check_transition, status_after_assignment

log = logging.getLogger(__name__)

_SHOWABLE_REFERENCE = re.compile(r"^[A-Za-z0-9-]{1,30}$")


class RequestStore:
    """Support requests in one database.

    Args:
        engine: from :func:`support_requests.database.open_engine`, already migrated
            (:meth:`from_url` does both).
        recipients: where creation notifications go besides the routed contact.
        clock: returns the current UTC time (tests pass a fake clock).
        follow_up: how completed requests are followed up (:mod:`support_requests.follow_up`); None: they are
            not.
    """

    def __init__(self, engine: Engine, *, recipients: Recipients | None = None,
                 clock: Callable[[], dt.datetime] = utc_now, follow_up: FollowUpPolicy | None = None):
        self.engine = engine
        self.recipients = _checked_recipients(recipients or Recipients())
        self.clock = clock
        self.follow_up = follow_up
        self.outbox = Outbox(engine)
        self._sessions = session_factory(engine)

    @classmethod
    def from_url(cls, url: str | URL, *, recipients: Recipients | None = None,
                 clock: Callable[[], dt.datetime] = utc_now,
                 follow_up: FollowUpPolicy | None = None) -> RequestStore:
        """Open the database at ``url``, apply pending migrations, and return a store ready for use.

        Raises:
            StoreUnavailableError: when the database cannot be reached or the URL not used.
        """
        engine = open_engine(url)
        upgrade_database(engine)
        return cls(engine, recipients=recipients, clock=clock, follow_up=follow_up)

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def __enter__(self) -> RequestStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- creating -------------------------------------------------------------------------------------------

    def create(self, draft: RequestDraft, idempotency_key: str, *,
               recipients: Recipients | None = None) -> SupportRequest:
        """Store a new request, or return the one already stored under ``idempotency_key``: see :meth:`submit`."""
        return self.submit(draft, idempotency_key, recipients=recipients)[0]

    def submit(self, draft: RequestDraft, idempotency_key: str, *,
               recipients: Recipients | None = None) -> tuple[SupportRequest, bool]:
        """Store a new request and its notifications, or return the one already stored under ``idempotency_key``.

        One form submission gives one request, however often it is retried,
        concurrently or not: pass the same key on every retry.

        Args:
            draft: the request as collected; it must carry the company's consent.
            idempotency_key: identifies the submission (any text up to 255 characters; only its hash is kept).
            recipients: overrides the store's advisors' mailbox and webhook for this request.

        Returns:
            The stored request (status new) and True, or the existing one for a repeated key and False.

        Raises:
            RequestValidationError: naming the first unacceptable field; nothing is stored.
        """
        now = self.clock()
        clean = validate_draft(draft, now)
        key = idempotency_digest(idempotency_key)
        recipients = _checked_recipients(recipients) if recipients else self.recipients
        for attempt in (1, 2):
            try:
                with self._transaction() as session:
                    existing = session.scalars(
                        select(RequestRow).where(RequestRow.idempotency_key == key)).one_or_none()
                    if existing is not None:
                        log.info("support request %s: repeated submission, nothing new stored", existing.reference)
                        return to_model(existing), False
                    row = new_row(clean, key, allocate_reference(session, now.year), now)
                    session.add(row)
                    session.flush()
                    # After the reference: concurrent submissions queue on the year's counter, so this one
                    # sees a company the other just created.
                    link_company(session, row, now)
                    session.flush()
                    created = to_model(row)
                    enqueue(session, row.id, creation_notifications(
                        created, clean.routed_contact_email, recipients.advisors_email, recipients.webhook_url), now)
                break
            except IntegrityError:
                # A concurrent submission with the same key, or of the same new company, committed first
                # (PostgreSQL); ours rolled back.
                with self._transaction() as session:
                    existing = session.scalars(
                        select(RequestRow).where(RequestRow.idempotency_key == key)).one_or_none()
                if existing is not None:
                    log.info("support request %s: concurrent repeated submission, nothing new stored",
                             existing.reference)
                    return to_model(existing), False
                if attempt == 2:
                    raise
        log.info("support request %s created (channel %s, routed to %s, %d notification(s) queued)",
                 created.reference, created.channel, created.routed_contact, 3 if recipients.webhook_url else 2)
        return created, True

    # -- reading --------------------------------------------------------------------------------------------

    def get(self, reference: str) -> SupportRequest:
        """The request with ``reference`` (case and surrounding space ignored).

        Raises:
            RequestNotFoundError: when there is none.
        """
        with self._transaction() as session:
            return to_model(self._find(session, reference))

    def list(self, status: RequestStatus | str | None = None, assignee: str | None = None,
             created_from: dt.datetime | None = None, created_to: dt.datetime | None = None) -> list[SupportRequest]:
        """Requests matching every given filter, oldest first (ties by reference).

        Args:
            created_from: inclusive lower bound on the creation time (time-zone-aware).
            created_to: exclusive upper bound on the creation time (time-zone-aware).

        Raises:
            RequestValidationError: for an unknown status or a naive datetime.
        """
        query = select(RequestRow).order_by(RequestRow.created_at, RequestRow.reference)
        if status is not None:
            query = query.where(RequestRow.status == _status(status))
        if assignee is not None:
            query = query.where(RequestRow.assignee == assignee.strip())
        if created_from is not None:
            query = query.where(RequestRow.created_at >= _aware("created_from", created_from))
        if created_to is not None:
            query = query.where(RequestRow.created_at < _aware("created_to", created_to))
        with self._transaction() as session:
            return [to_model(row) for row in session.scalars(query)]

    def find_for_company(self, reference: str, email: str) -> SupportRequest | None:
        """The request, only if ``email`` is its contact's address (case-insensitive); otherwise None.

        The answer is the same None for an unknown reference, a wrong email, an erased
        request or malformed input, so it never reveals whether a reference exists.
        The returned request includes internal notes and history: show the company
        only what is meant for it (such as the status).
        """
        canonical = parse_reference(reference)
        try:
            key = email_key(normalise_email(email))
        except RequestValidationError:
            return None
        if canonical is None:
            return None
        with self._transaction() as session:
            row = session.scalars(select(RequestRow).where(RequestRow.reference == canonical,
                                                           RequestRow.email_key == key)).one_or_none()
            return to_model(row) if row is not None else None

    # -- following up ---------------------------------------------------------------------------------------

    def set_status(self, reference: str, status: RequestStatus | str, actor: str,
                   note: str | None = None) -> SupportRequest:
        """Move a request to ``status`` if the workflow allows it, with an optional note, in one transaction.

        Completing a request (closed after in progress or connected) also queues its one follow-up email, in
        the same transaction, when the store has a follow-up policy and the company's consent is still held
        (:mod:`support_requests.follow_up`).

        Returns:
            The updated request.

        Raises:
            RequestValidationError: for an unknown status, an empty actor or an over-long note.
            RequestNotFoundError: for an unknown reference.
            InvalidTransitionError: when the workflow does not allow the move.
        """
        wanted = _status(status)
        actor = validate_actor(actor)
        text = validate_text("note", note, MAX_NOTE_CHARS, multi_line=True, required=False) if note else ""
        now = self.clock()
        with self._transaction() as session:
            row = self._find(session, reference, lock=True)
            check_transition(row.reference, row.status, wanted)
            previous = row.status
            change_status(row, wanted, actor, now)
            if text:
                add_note(row, actor, text, now)
            followed_up = (self.follow_up is not None and is_completion(previous, wanted)
                           and queue_follow_up(session, row, self.follow_up, now))
            updated = to_model(row)
        log.info("support request %s: status %s -> %s%s", updated.reference, previous.value, wanted.value,
                 " (follow-up email queued)" if followed_up else "")
        return updated

    def assign(self, reference: str, advisor: str, actor: str) -> SupportRequest:
        """Make ``advisor`` the request's advisor; a new request thereby becomes assigned.

        Assigning the current advisor again changes nothing.

        Raises:
            RequestValidationError: for an empty advisor or actor.
            RequestNotFoundError: for an unknown reference.
            InvalidTransitionError: for a closed or withdrawn request.
        """
        advisor = validate_text("advisor", advisor, MAX_NAME_CHARS)
        actor = validate_actor(actor)
        now = self.clock()
        with self._transaction() as session:
            row = self._find(session, reference, lock=True)
            wanted = status_after_assignment(row.reference, row.status)
            if row.assignee != advisor:
                row.history.append(HistoryRow(at=now, actor=actor, field="assignee", old_value=row.assignee,
                                              new_value=advisor))
                row.assignee = advisor
                row.updated_at = now
            if wanted is not row.status:
                change_status(row, wanted, actor, now)
            updated = to_model(row)
        log.info("support request %s: assigned (status %s)", updated.reference, updated.status.value)
        return updated

    def add_note(self, reference: str, actor: str, text: str) -> SupportRequest:
        """Add an internal note (at most 5,000 characters) to a request.

        Raises:
            RequestValidationError: for an empty or over-long note or an empty actor.
            RequestNotFoundError: for an unknown reference.
        """
        actor = validate_actor(actor)
        text = validate_text("note", text, MAX_NOTE_CHARS, multi_line=True)
        now = self.clock()
        with self._transaction() as session:
            row = self._find(session, reference, lock=True)
            add_note(row, actor, text, now)
            row.updated_at = now
            updated = to_model(row)
        log.info("support request %s: note %d added", updated.reference, len(updated.notes))
        return updated

    # -- personal data --------------------------------------------------------------------------------------

    def erase(self, email: str | None = None, reference: str | None = None, *,
              actor: str = "erasure") -> ErasureReport:
        """Erase the personal data of every request with this contact email, or of one request.

        Give exactly one of ``email`` and ``reference``. Requests already erased are
        left out of the report. Pending notifications of erased requests are cancelled.

        Returns:
            The references erased and their conversation ids (delete their tracker
            events with :func:`support_requests.conversations.erase_tracker_events`).

        Raises:
            RequestValidationError: for neither or both arguments, or a malformed email.
            RequestNotFoundError: for an unknown reference.
        """
        if (email is None) == (reference is None):
            raise RequestValidationError("erase", "give either an email address or a reference, not both")
        actor = validate_actor(actor)
        key = email_key(normalise_email(email)) if email is not None else None
        now = self.clock()
        with self._transaction() as session:
            if key is not None:
                rows = list(session.scalars(select(RequestRow).where(RequestRow.email_key == key)
                                            .order_by(RequestRow.id).with_for_update()))
            else:
                rows = [self._find(session, reference or "", lock=True)]
            report = erase_rows(session, rows, actor, now)
        if report.references:
            log.info("erased the personal data of %d support request(s): %s", len(report),
                     ", ".join(report.references))
        return report

    def erase_expired(self, retention_days: int, now: dt.datetime | None = None) -> ErasureReport:
        """Erase the personal data of closed and withdrawn requests closed at least ``retention_days`` ago.

        Returns:
            What was erased (see :meth:`erase`).

        Raises:
            RequestValidationError: for a negative retention or a naive ``now``.
        """
        if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 0:
            raise RequestValidationError("retention_days", "must be a whole number of days, 0 or more")
        now = _aware("now", now) if now is not None else self.clock()
        cutoff = now - dt.timedelta(days=retention_days)
        query = (select(RequestRow)
                 .where(RequestRow.status.in_([RequestStatus.CLOSED, RequestStatus.WITHDRAWN]),
                        RequestRow.erased_at.is_(None), RequestRow.closed_at <= cutoff)
                 .order_by(RequestRow.id).with_for_update())
        with self._transaction() as session:
            report = erase_rows(session, list(session.scalars(query)), "retention", now)
        if report.references:
            log.info("retention: erased the personal data of %d support request(s): %s", len(report),
                     ", ".join(report.references))
        return report

    def purge(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Apply the retention period (see :meth:`erase_expired`).

        Returns:
            How many requests had their personal data erased.
        """
        return len(self.erase_expired(retention_days, now))

    # -- helpers --------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed on success, with database outages as store errors."""
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            yield session


    def _find(self, session: Session, reference: str, *, lock: bool = False) -> RequestRow:
        canonical = parse_reference(reference)
        shown = reference.strip() if isinstance(reference, str) and _SHOWABLE_REFERENCE.match(reference.strip()) \
            else "(malformed)"
        if canonical is None:
            raise RequestNotFoundError(shown)
        query = select(RequestRow).where(RequestRow.reference == canonical)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None:
            raise RequestNotFoundError(canonical)
        return row


def _status(value: RequestStatus | str) -> RequestStatus:
    try:
        return RequestStatus.parse(value)
    except (ValueError, AttributeError) as error:
        raise RequestValidationError("status", str(error)) from None


def _aware(field: str, value: dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise RequestValidationError(field, "must be a time-zone-aware datetime")
    return value.astimezone(dt.timezone.utc)


def _checked_recipients(recipients: Recipients) -> Recipients:
    webhook = (recipients.webhook_url or "").strip() or None
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise RequestValidationError("webhook_url", "must be an http:// or https:// URL")
    return Recipients(advisors_email=normalise_email(recipients.advisors_email, "advisors_email"),
                      webhook_url=webhook)
