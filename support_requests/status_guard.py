"""A limit on failed status checks, so that references and email addresses cannot be guessed without end.

A company asks for the status of its request with the request's reference and email address. References are
sequential (``SLT-2026-0001``, ``-0002``, ...), so without a limit a stranger could try address after address
against them. :class:`StatusCheckGuard` counts failed checks (a reference and an email that matched no request)
and allows at most ``max_failures`` per conversation and as many per reference within a sliding ``window`` (5
in one hour by default). A conversation or a reference that has reached its limit is locked out: no pair is
looked up for it, not even the right one, until its oldest failure in the window is older than the window.

The counts live in the request database (table ``status_check_failures``), so every replica of the service
shares them. A row holds the reference asked about, the SHA-256 of the conversation id and the time: never an
email address. Rows older than the window are deleted whenever a check is counted.

Concurrent checks cannot slip past the limit together: a check is counted as a failure *before* the look-up
(and the row deleted again when the pair matches), in a transaction that holds a lock on its reference and its
conversation (advisory locks on PostgreSQL; SQLite runs one writer at a time). So a burst of checks of one
reference from many conversations gets exactly ``max_failures`` look-ups. The price: while a matching check is
under way (milliseconds), it counts as a failure for a concurrent check of the same reference or conversation.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from support_requests.database import is_postgresql, translate_database_errors
from support_requests.demand import conversation_key
from support_requests.errors import RequestValidationError
from support_requests.model import utc_now
from support_requests.tables import StatusCheckFailureRow

DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW = dt.timedelta(hours=1)
MAX_REFERENCE_CHARS = 64
"""A longer reference is counted under its first 64 characters (no real reference is that long)."""

T = TypeVar("T")
_TABLE = StatusCheckFailureRow.__table__


class Lockout(str, enum.Enum):
    """Which limit refused a check (when both are reached: the conversation)."""

    CONVERSATION = "conversation"
    """The conversation made ``max_failures`` failed checks within the window."""
    REFERENCE = "reference"
    """The reference was checked without success ``max_failures`` times within the window, from any conversation."""


@dataclass(frozen=True)
class CheckResult(Generic[T]):
    """What became of one status check.

    Attributes:
        found: what the look-up returned when it found something; None when it found nothing or did not run.
        lockout: the limit that refused the check (the look-up did not run), or None when it ran.
    """

    found: T | None = None
    lockout: Lockout | None = None

    @property
    def failed(self) -> bool:
        """The look-up ran and found nothing: this check was counted as a failure."""
        return self.lockout is None and self.found is None


def reference_key(reference: str) -> str:
    """How a reference is counted: upper case without surrounding space, cut to :data:`MAX_REFERENCE_CHARS`.

    The store finds requests by exactly this form, so two spellings that count apart can never both match.
    """
    return reference.strip().upper()[:MAX_REFERENCE_CHARS]


class StatusCheckGuard:
    """Failed status checks per conversation and per reference, in the request database.

    Args:
        engine: the request database (``RequestStore.engine``), already migrated.
        clock: returns the current UTC time (tests pass a fake clock).
        max_failures: failed checks within ``window`` after which a conversation or a reference is locked out.
        window: how far back failures count; a lock-out ends when its oldest failure is this old.

    Raises:
        ValueError: for ``max_failures`` under 1 or a window that is not positive.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now,
                 max_failures: int = DEFAULT_MAX_FAILURES, window: dt.timedelta = DEFAULT_WINDOW):
        if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
            raise ValueError("max_failures must be a whole number of at least 1")
        if window <= dt.timedelta(0):
            raise ValueError("window must be a positive duration")
        self.engine = engine
        self.clock = clock
        self.max_failures = max_failures
        self.window = window

    def check(self, reference: str, conversation_id: str, lookup: Callable[[], T | None]) -> CheckResult[T]:
        """Run ``lookup`` for this reference in this conversation, unless either is locked out.

        Args:
            reference: the reference the company gave (counted as :func:`reference_key` makes it).
            conversation_id: the conversation's id (only its SHA-256 is stored).
            lookup: finds the request for the reference and the email, returning None when they do not match;
                blocking is fine (call :meth:`check` in a worker thread).

        Returns:
            The look-up's result, or the limit that refused it. A None from ``lookup`` is counted as a failure;
            an exception from it is not (it propagates).

        Raises:
            RequestValidationError: for an empty reference or conversation id.
            StoreUnavailableError: when the database cannot be used.
        """
        attempt = self._begin(_required("reference", reference), _required("conversation_id", conversation_id))
        if isinstance(attempt, Lockout):
            return CheckResult(lockout=attempt)
        try:
            found = lookup()
        except BaseException:
            self._forget(attempt)  # an outage or a bug is not a wrong guess
            raise
        if found is not None:
            self._forget(attempt)
        return CheckResult(found=found)

    def lockout(self, reference: str, conversation_id: str) -> Lockout | None:
        """Which limit would refuse a check of ``reference`` in this conversation now, or None."""
        since = self.clock() - self.window
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return self._reached(connection, reference_key(_required("reference", reference)),
                                 conversation_key(_required("conversation_id", conversation_id)), since)

    def failures(self, *, reference: str | None = None, conversation_id: str | None = None) -> int:
        """Failed checks within the window, of the reference or the conversation given (exactly one of them)."""
        if (reference is None) == (conversation_id is None):
            raise RequestValidationError("failures", "give either a reference or a conversation id, not both")
        column, value = ((_TABLE.c.reference, reference_key(reference)) if reference is not None
                         else (_TABLE.c.conversation_key, conversation_key(conversation_id or "")))
        since = self.clock() - self.window
        with translate_database_errors(self.engine), self.engine.connect() as connection:
            return _count(connection, column, value, since)

    def _begin(self, reference: str, conversation_id: str) -> int | Lockout:
        """The lock-out that refuses this check, or the id of the failure row counted for it (until it matches)."""
        ref, conv = reference_key(reference), conversation_key(conversation_id)
        now = self.clock()
        since = now - self.window
        with translate_database_errors(self.engine), self.engine.begin() as connection:
            _lock(connection, ref, conv)
            connection.execute(delete(_TABLE).where(_TABLE.c.failed_at <= since))
            reached = self._reached(connection, ref, conv, since)
            if reached is not None:
                return reached
            result = connection.execute(insert(_TABLE).values(reference=ref, conversation_key=conv, failed_at=now))
            return int(result.inserted_primary_key[0])

    def _forget(self, attempt: int) -> None:
        with translate_database_errors(self.engine), self.engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.id == attempt))

    def _reached(self, connection: Connection, ref: str, conv: str, since: dt.datetime) -> Lockout | None:
        if _count(connection, _TABLE.c.conversation_key, conv, since) >= self.max_failures:
            return Lockout.CONVERSATION
        if _count(connection, _TABLE.c.reference, ref, since) >= self.max_failures:
            return Lockout.REFERENCE
        return None


def _count(connection: Connection, column, value: str, since: dt.datetime) -> int:
    query = select(func.count()).select_from(_TABLE).where(column == value, _TABLE.c.failed_at > since)
    return int(connection.execute(query).scalar_one())


def _lock(connection: Connection, ref: str, conv: str) -> None:
    """Hold the reference's and the conversation's locks until the transaction ends (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already admits one writer at a time). Taken in a fixed order, so two checks never wait
    for each other in a circle."""
    if not is_postgresql(connection.engine):
        return
    for lock_id in sorted({_lock_id("reference", ref), _lock_id("conversation", conv)}):
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _lock_id(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"status-check:{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _required(field: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(field, "must not be empty")
    return value
