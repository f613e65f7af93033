"""Erasing personal data: from stored requests, and from the assistant's tracker store.

A request's personal data is the company name, contact person, email, phone,
organisation number, need summary, conversation id, advisors' notes and the
texts of its notifications. Erasure replaces or removes all of them, keeps
what statistics need (reference, status, channel, dates, chosen entries, routed
contact, history), and records in the history that it happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Column, Engine, MetaData, String, Table, delete, inspect
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.orm import Session

from support_requests.database import open_engine, translate_database_errors
from support_requests.errors import SupportRequestError
from support_requests.model import ERASED_MARKER, ErasureReport
from support_requests.outbox import cancel_and_scrub
from support_requests.tables import HistoryRow, RequestRow

TRACKER_TABLE = "events"  # Rasa's SQLTrackerStore: id, sender_id, type_name, timestamp, intent_name, action_name, data
_DELETE_CHUNK = 500


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
    return ErasureReport(references=tuple(sorted(row.reference for row in erased)),
                         conversation_ids=tuple(conversations))


def tracker_has_events(tracker_db_url: str | URL) -> bool:
    """True when the tracker store exists and has Rasa's ``events`` table (False for a file not yet created)."""
    url = make_url(tracker_db_url) if isinstance(tracker_db_url, str) else tracker_db_url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return False
    engine = open_engine(url)
    try:
        with translate_database_errors(engine):
            return inspect(engine).has_table(TRACKER_TABLE)
    finally:
        engine.dispose()


def erase_tracker_events(tracker_db_url: str | URL | Engine, conversation_ids: Sequence[str]) -> int:
    """Delete the Rasa tracker events of ``conversation_ids`` from the SQL tracker store at ``tracker_db_url``.

    Rasa's SQL tracker store keeps every event as a row of the table ``events``,
    keyed by ``sender_id`` (the conversation id).

    Returns:
        The number of event rows deleted (0 when ``conversation_ids`` is empty).

    Raises:
        SupportRequestError: when the database has no ``events`` table.
        StoreUnavailableError: when the database cannot be reached.
    """
    ids = sorted({c for c in conversation_ids if c})
    if not ids:
        return 0
    engine = tracker_db_url if isinstance(tracker_db_url, Engine) else open_engine(tracker_db_url)
    events = Table(TRACKER_TABLE, MetaData(), Column("sender_id", String(255)))
    deleted = 0
    try:
        with translate_database_errors(engine):
            if not inspect(engine).has_table(TRACKER_TABLE):
                where = engine.url.render_as_string(hide_password=True)
                raise SupportRequestError(f"the tracker store {where} has no '{TRACKER_TABLE}' table")
            with engine.begin() as connection:
                for start in range(0, len(ids), _DELETE_CHUNK):
                    chunk = ids[start:start + _DELETE_CHUNK]
                    deleted += connection.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount
    finally:
        if engine is not tracker_db_url:
            engine.dispose()
    return deleted
