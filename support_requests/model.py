"""The values callers exchange with the store: plain frozen dataclasses and enums, never ORM objects.

A :class:`RequestDraft` is what the assistant's form (or the console) collects;
:meth:`RequestStore.create <support_requests.store.RequestStore.create>` turns it
into a :class:`SupportRequest`, which carries everything the store knows about
one request, including its notes and the history of every change.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass


def utc_now() -> dt.datetime:
    """The current time, time-zone-aware in UTC: the default clock of the store and the outbox worker."""
    return dt.datetime.now(dt.timezone.utc)


ERASED_MARKER = "[erased]"
"""What replaces a free-text field whose personal content was erased."""


class RequestStatus(str, enum.Enum):
    """Where a request is in the advisors' follow-up; see :mod:`support_requests.workflow` for the allowed moves."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    CONNECTED = "connected"  # handed to the facility
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @classmethod
    def parse(cls, text: str | RequestStatus) -> RequestStatus:
        """Read a status as a person types it (``in-progress``, ``In_Progress``).

        Raises:
            ValueError: naming the accepted values.
        """
        if isinstance(text, RequestStatus):
            return text
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            accepted = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown status '{text}'; use one of: {accepted}") from None

    @property
    def is_terminal(self) -> bool:
        """True for closed and withdrawn: nothing moves a request out of them."""
        return self in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN)


@dataclass(frozen=True)
class Consent:
    """The company's consent to storing its personal data: when it was given and under which privacy notice."""

    given_at: dt.datetime
    notice_version: str


@dataclass(frozen=True)
class RequestDraft:
    """A request as collected, before validation. ``create`` normalises and checks every field.

    Attributes:
        entry_ids: catalogue entry ids the company chose (at most 20).
        routed_contact: the catalogue entry id of the contact role the request is routed to.
        routed_contact_email: that contact's mailbox; it gets a notification.
        channel: where the request came from, such as ``web``, ``rest``, ``teams``, ``slack`` or ``console``.
        conversation_id: the assistant's conversation (Rasa sender id), or None when there is none.
    """

    company_name: str
    contact_person: str
    email: str
    need_summary: str
    entry_ids: Sequence[str]
    routed_contact: str
    routed_contact_email: str
    channel: str
    conversation_id: str | None
    consent: Consent | None
    phone: str | None = None
    org_number: str | None = None


@dataclass(frozen=True)
class Recipients:
    """Where creation notifications go besides the routed contact's mailbox.

    Attributes:
        advisors_email: the innovation advisors' shared mailbox.
        webhook_url: a CRM endpoint that gets a signed JSON notification, or None for none.
    """

    advisors_email: str = "advisors@example.org"
    webhook_url: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change: ``field`` went from ``old_value`` to ``new_value`` by ``actor`` at ``at`` (UTC).

    ``field`` is one of ``status``, ``assignee``, ``note`` or ``personal_data``; values
    never hold personal data (a note is recorded by its number, an erasure as ``erased``).
    """

    at: dt.datetime
    actor: str
    field: str
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class Note:
    """An advisor's note on a request (internal: never show it to the company)."""

    number: int
    at: dt.datetime
    author: str
    text: str


@dataclass(frozen=True)
class SupportRequest:
    """A stored support request.

    Attributes:
        reference: ``SLT-YYYY-NNNN``, unique and never reused.
        created_at: when it was stored (UTC).
        email: the normalised address, or None once erased.
        entry_ids: the chosen catalogue entries, in the order chosen.
        assignee: the advisor following it up, or None.
        closed_at: when it entered closed or withdrawn (UTC), the start of its retention period.
        erased_at: when its personal data was erased, or None.
        company_id: the company it is for (:mod:`support_requests.companies`).
        notes: internal notes, oldest first.
        history: every change, oldest first.
    """

    reference: str
    created_at: dt.datetime
    channel: str
    conversation_id: str | None
    company_name: str
    contact_person: str
    email: str | None
    phone: str | None
    org_number: str | None
    need_summary: str
    entry_ids: tuple[str, ...]
    routed_contact: str
    consent: Consent
    status: RequestStatus
    assignee: str | None
    updated_at: dt.datetime
    closed_at: dt.datetime | None = None
    erased_at: dt.datetime | None = None
    company_id: int | None = None
    notes: tuple[Note, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @property
    def is_erased(self) -> bool:
        """True once the personal data of this request has been erased."""
        return self.erased_at is not None


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed.

    Attributes:
        references: the requests whose personal data was erased, sorted.
        conversation_ids: their distinct conversation ids, sorted, so the caller can
            also delete those conversations' tracker events
            (:func:`support_requests.conversations.erase_tracker_events`).
    """

    references: tuple[str, ...] = ()
    conversation_ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.references)
