"""Turning drafts into table rows, recording changes on rows, and rows back into plain values.

The store calls these inside its transactions; they never commit or query.
"""

from __future__ import annotations

import datetime as dt

from support_requests.model import Consent, HistoryEntry, Note, RequestDraft, RequestStatus, SupportRequest
from support_requests.tables import EntryRow, HistoryRow, NoteRow, RequestRow
from support_requests.validation import email_key


def new_row(draft: RequestDraft, key: str, reference: str, now: dt.datetime) -> RequestRow:
    """A new request's row (status new) from a validated draft, with its entries and first history entry."""
    consent = draft.consent
    assert consent is not None  # validate_draft guarantees it
    return RequestRow(
        reference=reference, idempotency_key=key, created_at=now, updated_at=now,
        channel=draft.channel, conversation_id=draft.conversation_id,
        company_name=draft.company_name, contact_person=draft.contact_person,
        email=draft.email, email_key=email_key(draft.email), phone=draft.phone, org_number=draft.org_number,
        need_summary=draft.need_summary, routed_contact=draft.routed_contact,
        consent_given_at=consent.given_at, consent_notice_version=consent.notice_version,
        status=RequestStatus.NEW, assignee=None,
        entries=[EntryRow(position=i, entry_id=entry) for i, entry in enumerate(draft.entry_ids)],
        notes=[],
        history=[HistoryRow(at=now, actor=f"company ({draft.channel})", field="status", old_value=None,
                            new_value=RequestStatus.NEW.value)],
    )


def change_status(row: RequestRow, wanted: RequestStatus, actor: str, now: dt.datetime) -> None:
    """Set the status and record it; entering closed or withdrawn starts the retention period."""
    row.history.append(HistoryRow(at=now, actor=actor, field="status", old_value=row.status.value,
                                  new_value=wanted.value))
    row.status = wanted
    row.updated_at = now
    if wanted.is_terminal:
        row.closed_at = now


def add_note(row: RequestRow, actor: str, text: str, now: dt.datetime) -> None:
    """Append the next numbered note and record it in the history by its number (never its text)."""
    number = max((note.number for note in row.notes), default=0) + 1
    row.notes.append(NoteRow(number=number, at=now, author=actor, text=text))
    row.history.append(HistoryRow(at=now, actor=actor, field="note", old_value=None, new_value=f"note {number}"))


def to_model(row: RequestRow) -> SupportRequest:
    """The plain, frozen value of a request row with its entries, notes and history."""
    return SupportRequest(
        reference=row.reference, created_at=row.created_at, channel=row.channel,
        conversation_id=row.conversation_id, company_name=row.company_name, contact_person=row.contact_person,
        email=row.email, phone=row.phone, org_number=row.org_number, need_summary=row.need_summary,
        entry_ids=tuple(entry.entry_id for entry in row.entries), routed_contact=row.routed_contact,
        consent=Consent(given_at=row.consent_given_at, notice_version=row.consent_notice_version),
        status=row.status, assignee=row.assignee, updated_at=row.updated_at, closed_at=row.closed_at,
        erased_at=row.erased_at, company_id=row.company_id,
        notes=tuple(Note(number=n.number, at=n.at, author=n.author, text=n.text) for n in row.notes),
        history=tuple(HistoryEntry(at=h.at, actor=h.actor, field=h.field, old_value=h.old_value,
                                   new_value=h.new_value) for h in row.history),
    )
