"""Erasing personal data from stored requests (the assistant's conversations: :mod:`support_requests.conversations`).

A request's personal data is the company name, contact person, email, phone,
organisation number, need summary, conversation id, advisors' notes and the
texts of its notifications, and the company's comment on the follow-up. Erasure replaces or removes all of
them, keeps what statistics need (reference, status, channel, dates, chosen entries, routed
contact, history, company link, the follow-up's score), and records in the history that it happened. A company none of whose
requests holds personal data any more is erased with them (:func:`support_requests.companies.erase_companies`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from support_requests.companies import erase_companies
from support_requests.follow_up import erase_comments
from support_requests.model import ERASED_MARKER, ErasureReport
from support_requests.outbox import cancel_and_scrub
from support_requests.tables import HistoryRow, RequestRow


def erase_rows(session: Session, rows: Iterable[RequestRow], actor: str, now: dt.datetime) -> ErasureReport:
    """Erase the personal data of ``rows`` (already erased ones are skipped) in the session's transaction.

    Returns:
        The references erased and their conversation ids, each sorted.
    """
    erased = [row for row in rows if row.erased_at is None]
    conversations = sorted({row.conversation_id for row in erased if row.conversation_id})
    for row in erased:
        row.company_name = ERASED_MARKER
        row.contact_person = ERASED_MARKER
        row.need_summary = ERASED_MARKER
        row.email = row.email_key = row.phone = row.org_number = row.conversation_id = None
        for note in row.notes:
            note.text = ERASED_MARKER
        row.erased_at = row.updated_at = now
        row.history.append(HistoryRow(at=now, actor=actor, field="personal_data", old_value=None,
                                      new_value="erased"))
    cancel_and_scrub(session, [row.id for row in erased])
    erase_comments(session, [row.id for row in erased])
    session.flush()
    erase_companies(session, [row.company_id for row in erased], now)
    return ErasureReport(references=tuple(sorted(row.reference for row in erased)),
                         conversation_ids=tuple(conversations))
