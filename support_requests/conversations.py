"""The assistant's conversations in Rasa's SQL tracker store: the one place that knows its table.

Reading: conversations flagged for a person and their transcripts (:class:`TrackerReader`). Erasing: a
company's conversations (:func:`erase_tracker_events`), used by erasure and retention.

Rasa's ``SQLTrackerStore`` keeps every event as a row of the table ``events`` (``id``, ``sender_id``,
``type_name``, ``timestamp``, ``intent_name``, ``action_name``, ``data``: the event as JSON text; for a
``slot`` event ``action_name`` holds the slot's name). A conversation is flagged when a ``slot`` event set
``handoff_requested`` to true (the assistant's handoff action).

:class:`TrackerReader` only reads: an SQLite tracker store is opened read-only (``mode=ro``), so it is
never created or locked for writing, and a PostgreSQL session is made read-only. A tracker store that
does not exist yet, has no ``events`` table or cannot be reached gives an empty result with a
:class:`TrackerState` saying why, not an error.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from typing import Any

from sqlalchemy import (Column, Engine, Float, Integer, MetaData, String, Table, Text, case, create_engine, delete, exc,
                        func, inspect, select)
from sqlalchemy.engine import URL, Connection, make_url

from index.text import shorten
from support_requests.database import open_engine, translate_database_errors
from support_requests.errors import SupportRequestError
from support_requests.tables import RequestRow

log = logging.getLogger(__name__)

TRACKER_TABLE = "events"
HANDOFF_SLOT = "handoff_requested"
"""The slot the assistant sets to true when a company asks for a person."""
NEED_SLOT = "need"
"""The slot holding the company's need as last searched."""
HITS_SLOT = "last_hits"
"""The slot holding the ids of the entries last shown."""
SEARCH_ACTIONS = ("action_search_catalogue", "action_restrict_site", "action_show_funding")
"""The assistant's actions that search the catalogue (a new need, a need narrowed to a site, funding)."""
VIEW_ACTIONS = ("action_show_details", "action_show_contact")
"""The assistant's actions that show an entry's details or its contact."""
MAX_FLAGGED = 200
"""The flagged list shows at most this many conversations, the most recently flagged first."""
MAX_TRANSCRIPT_EVENTS = 2000
"""A transcript shows at most this many of a conversation's latest events."""
PREVIEW_CHARS = 160
MAX_SENDER_CHARS = 255
_DELETE_CHUNK = 500

_metadata = MetaData()
EVENTS = Table(TRACKER_TABLE, _metadata,
               Column("id", Integer, primary_key=True),
               Column("sender_id", String(255), nullable=False),
               Column("type_name", String(255), nullable=False),
               Column("timestamp", Float),
               Column("intent_name", String(255)),
               Column("action_name", String(255)),
               Column("data", Text))
"""The columns of Rasa's tracker table that are read or erased here."""


class TrackerState(str, enum.Enum):
    """Whether the tracker store could be read; the pages turn each state into a note."""

    OK = "ok"
    MISSING_DATABASE = "missing_database"
    MISSING_TABLE = "missing_table"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class FlaggedConversation:
    """One conversation flagged for a person.

    Attributes:
        conversation_id: Rasa's sender id.
        flagged_at: when the flag was last set (UTC), if Rasa recorded a time.
        last_user_text: the last thing the company wrote, shortened to :data:`PREVIEW_CHARS` characters.
        need: the conversation's latest ``need`` slot (in full), if set.
        request_references: the support requests opened for this conversation, oldest first.
    """

    conversation_id: str
    flagged_at: dt.datetime | None
    last_user_text: str
    need: str | None
    request_references: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlaggedList:
    """The flagged conversations, the most recently flagged first, and whether the tracker store was read."""

    conversations: tuple[FlaggedConversation, ...]
    state: TrackerState


@dataclass(frozen=True)
class Message:
    """One line of a transcript.

    Attributes:
        speaker: ``user``, ``bot`` or ``flag`` (the moment the conversation was flagged for a person).
        text: what was said (plain text; may be empty for a bot message that only had buttons).
        at: when (UTC), if Rasa recorded it.
        buttons: the titles of the buttons a bot message offered.
    """

    speaker: str
    text: str
    at: dt.datetime | None
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """A conversation's messages in order.

    Attributes:
        conversation_id: Rasa's sender id.
        messages: user and bot messages, oldest first, with the moments the conversation was flagged.
        flagged_at: when it was last flagged for a person, or ``None`` when it never was.
        need: the latest ``need`` slot, if set.
        last_user_text: the company's last message in full ("" when there is none).
        shown_entries: the entries the assistant showed last (the ``last_hits`` slot).
        truncated: True when older events were left out (past :data:`MAX_TRANSCRIPT_EVENTS`).
    """

    conversation_id: str
    messages: tuple[Message, ...]
    flagged_at: dt.datetime | None
    need: str | None
    last_user_text: str
    shown_entries: tuple[str, ...]
    truncated: bool

    @property
    def follow_up_need(self) -> str:
        """What a support request opened from this conversation should start with: the need, else the last message."""
        return self.need or self.last_user_text


@dataclass(frozen=True)
class ConversationStep:
    """How far one conversation got in the assistant: when the company first wrote, whether it searched the
    catalogue, and whether it viewed an entry's details or contact."""

    conversation_id: str
    started_at: dt.datetime
    searched: bool
    viewed: bool


@dataclass(frozen=True)
class ConversationSteps:
    """The conversations of a period (:meth:`TrackerReader.conversation_steps`) and the tracker store's state."""

    conversations: tuple[ConversationStep, ...]
    state: TrackerState


class TrackerReader:
    """Reads Rasa's SQL tracker store, never writing to it.

    Args:
        tracker_db_url: ``settings.tracker_db_url`` (``sqlite:///FILE`` or ``postgresql+psycopg://...``).
    """

    def __init__(self, tracker_db_url: str | URL):
        self.url = make_url(tracker_db_url) if isinstance(tracker_db_url, str) else tracker_db_url
        self._engine: Engine | None = None

    def close(self) -> None:
        """Close the database connections (the reader may be used again; it reconnects)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def state(self) -> TrackerState:
        """Whether the tracker store exists, has Rasa's table and can be reached."""
        engine = self._open()
        if engine is None:
            return TrackerState.MISSING_DATABASE
        try:
            with engine.connect() as connection:
                return TrackerState.OK if inspect(connection).has_table(TRACKER_TABLE) else TrackerState.MISSING_TABLE
        except exc.SQLAlchemyError as error:
            log.warning("the tracker store cannot be read: %s", type(error).__name__)
            return TrackerState.UNREACHABLE

    def flagged(self, limit: int = MAX_FLAGGED) -> FlaggedList:
        """The conversations flagged for a person, the most recently flagged first (ties by id).

        Args:
            limit: at most this many.

        Returns:
            The conversations (without their requests: see :func:`with_requests`) and the store's state;
            no conversations unless the state is ``OK``.
        """
        state = self.state()
        if state is not TrackerState.OK:
            return FlaggedList((), state)
        try:
            with self._open().connect() as connection:
                flags = connection.execute(
                    select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.data)
                    .where(EVENTS.c.type_name == "slot", EVENTS.c.action_name == HANDOFF_SLOT)
                    .order_by(EVENTS.c.id)).all()
                latest: dict[str, tuple[int, float | None]] = {}
                for row in flags:
                    if _slot_value(row.data) is True:
                        latest[row.sender_id] = (row.id, row.timestamp)
                chosen = sorted(latest.items(), key=lambda item: (-(item[1][1] or 0.0), -item[1][0], item[0]))[:limit]
                ids = [sender for sender, _ in chosen]
                last_text = _latest_data(connection, ids, type_name="user")
                needs = _latest_data(connection, ids, type_name="slot", action_name=NEED_SLOT)
        except exc.SQLAlchemyError as error:
            log.warning("the tracker store cannot be read: %s", type(error).__name__)
            return FlaggedList((), TrackerState.UNREACHABLE)
        conversations = tuple(
            FlaggedConversation(conversation_id=sender, flagged_at=_time(at),
                                last_user_text=shorten(_text(last_text.get(sender)), PREVIEW_CHARS),
                                need=_need(needs.get(sender)))
            for sender, (_, at) in chosen)
        return FlaggedList(conversations, TrackerState.OK)

    def transcript(self, conversation_id: str) -> Transcript | None:
        """The conversation's messages, oldest first; ``None`` when the tracker store has no such conversation
        (or cannot be read: see :meth:`state`)."""
        if not conversation_id or len(conversation_id) > MAX_SENDER_CHARS or self.state() is not TrackerState.OK:
            return None
        try:
            with self._open().connect() as connection:
                rows = connection.execute(
                    select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.action_name, EVENTS.c.data)
                    .where(EVENTS.c.sender_id == conversation_id)
                    .order_by(EVENTS.c.id.desc()).limit(MAX_TRANSCRIPT_EVENTS + 1)).all()
        except exc.SQLAlchemyError as error:
            log.warning("the tracker store cannot be read: %s", type(error).__name__)
            return None
        if not rows:
            return None
        truncated = len(rows) > MAX_TRANSCRIPT_EVENTS
        return _transcript(conversation_id, list(reversed(rows[:MAX_TRANSCRIPT_EVENTS])), truncated)

    def conversation_steps(self, start: dt.datetime, end: dt.datetime) -> ConversationSteps:
        """The conversations whose company wrote its first message in ``[start, end)``, with how far each got in
        the assistant, aggregated per conversation in SQL (one row each).

        A conversation is a sender with at least one ``user`` event; it *searched* when one of
        :data:`SEARCH_ACTIONS` ran in it, and *viewed* details or a contact when one of :data:`VIEW_ACTIONS` did.

        Returns:
            The conversations by id and the store's state; none unless the state is ``OK``.
        """
        state = self.state()
        if state is not TrackerState.OK:
            return ConversationSteps((), state)
        started = func.min(case((EVENTS.c.type_name == "user", EVENTS.c.timestamp)))
        searched = func.max(case((EVENTS.c.action_name.in_(SEARCH_ACTIONS) & (EVENTS.c.type_name == "action"), 1),
                                 else_=0))
        viewed = func.max(case((EVENTS.c.action_name.in_(VIEW_ACTIONS) & (EVENTS.c.type_name == "action"), 1),
                               else_=0))
        # Only the company's messages and the actions bear on the steps: the other events (the assistant's
        # answers, slots, session starts: about half of them) are left out before grouping.
        query = (select(EVENTS.c.sender_id, started.label("started"), searched.label("searched"),
                        viewed.label("viewed"))
                 .where(EVENTS.c.type_name.in_(("user", "action")))
                 .group_by(EVENTS.c.sender_id)
                 .having(started >= start.timestamp(), started < end.timestamp())
                 .order_by(EVENTS.c.sender_id))
        try:
            with self._open().connect() as connection:
                rows = connection.execute(query).all()
        except exc.SQLAlchemyError as error:
            log.warning("the tracker store cannot be read: %s", type(error).__name__)
            return ConversationSteps((), TrackerState.UNREACHABLE)
        return ConversationSteps(tuple(ConversationStep(conversation_id=row.sender_id, started_at=_time(row.started),
                                                        searched=bool(row.searched), viewed=bool(row.viewed))
                                       for row in rows), TrackerState.OK)

    def _open(self) -> Engine | None:
        """The engine, or ``None`` for an SQLite file that does not exist (it is never created here)."""
        if self._engine is not None:
            return self._engine
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database
            if not database or database == ":memory:" or not Path(database).exists():
                return None
            read_only = URL.create("sqlite", database=f"file:{quote(str(Path(database).resolve()))}?mode=ro",
                                   query={"uri": "true"})
            self._engine = create_engine(read_only, hide_parameters=True)
        else:
            engine = create_engine(self.url, hide_parameters=True, pool_pre_ping=True)
            if engine.dialect.name == "postgresql":
                engine = engine.execution_options(postgresql_readonly=True)
            self._engine = engine
        return self._engine


def with_requests(conversations: Sequence[FlaggedConversation], request_db: Engine) -> list[FlaggedConversation]:
    """``conversations`` with the references of the support requests opened for each.

    Args:
        conversations: from :meth:`TrackerReader.flagged`.
        request_db: the request database (``RequestStore.engine``).
    """
    opened = requests_for(request_db, [c.conversation_id for c in conversations])
    return [FlaggedConversation(c.conversation_id, c.flagged_at, c.last_user_text, c.need,
                                tuple(opened.get(c.conversation_id, ()))) for c in conversations]


def requests_for(request_db: Engine, conversation_ids: Iterable[str]) -> dict[str, list[str]]:
    """The references of the support requests opened for each conversation, oldest first.

    Args:
        request_db: the request database (``RequestStore.engine``).
        conversation_ids: Rasa sender ids.

    Returns:
        conversation id → references; conversations without a request are left out.

    Raises:
        StoreUnavailableError: when the request database cannot be used.
    """
    ids = sorted(set(conversation_ids))
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), 500):
        query = (select(RequestRow.conversation_id, RequestRow.reference)
                 .where(RequestRow.conversation_id.in_(ids[start:start + 500]))
                 .order_by(RequestRow.created_at, RequestRow.reference))
        with translate_database_errors(request_db), request_db.connect() as connection:
            for conversation, reference in connection.execute(query):
                found.setdefault(conversation, []).append(reference)
    return found


def _latest_data(connection: Connection, senders: Sequence[str], *, type_name: str,
                 action_name: str | None = None) -> dict[str, str | None]:
    """The ``data`` of each sender's latest event of a type (and action or slot name)."""
    found: dict[str, str | None] = {}
    for start in range(0, len(senders), 500):
        where = [EVENTS.c.sender_id.in_(senders[start:start + 500]), EVENTS.c.type_name == type_name]
        if action_name is not None:
            where.append(EVENTS.c.action_name == action_name)
        latest = select(func.max(EVENTS.c.id)).where(*where).group_by(EVENTS.c.sender_id).scalar_subquery()
        for sender, data in connection.execute(select(EVENTS.c.sender_id, EVENTS.c.data)
                                               .where(EVENTS.c.id.in_(latest))):
            found[sender] = data
    return found


def _transcript(conversation_id: str, rows: Sequence[Any], truncated: bool) -> Transcript:
    messages: list[Message] = []
    flagged_at: dt.datetime | None = None
    need: str | None = None
    last_user = ""
    shown: tuple[str, ...] = ()
    for row in rows:
        event = _parse(row.data)
        at = _time(row.timestamp)
        if row.type_name == "user":
            last_user = _text(row.data)
            messages.append(Message("user", last_user, at))
        elif row.type_name == "bot":
            text = event.get("text") if isinstance(event.get("text"), str) else ""
            buttons = _button_titles(event)
            if text or buttons:
                messages.append(Message("bot", text, at, buttons))
        elif row.type_name == "slot":
            name, value = event.get("name", row.action_name), event.get("value")
            if name == HANDOFF_SLOT and value is True:
                flagged_at = at
                messages.append(Message("flag", "", at))
            elif name == NEED_SLOT:
                need = value.strip() if isinstance(value, str) and value.strip() else None
            elif name == HITS_SLOT:
                shown = tuple(str(v) for v in value) if isinstance(value, list) else ()
    return Transcript(conversation_id=conversation_id, messages=tuple(messages), flagged_at=flagged_at, need=need,
                      last_user_text=last_user, shown_entries=shown, truncated=truncated)


def _parse(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        event = json.loads(data)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _slot_value(data: str | None) -> Any:
    return _parse(data).get("value")


def _text(data: str | None) -> str:
    text = _parse(data).get("text")
    return text if isinstance(text, str) else ""


def _need(data: str | None) -> str | None:
    value = _slot_value(data)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _button_titles(event: dict[str, Any]) -> tuple[str, ...]:
    data = event.get("data")
    buttons = data.get("buttons") if isinstance(data, dict) else None
    if not isinstance(buttons, list):
        return ()
    return tuple(str(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title"))


def _time(timestamp: float | None) -> dt.datetime | None:
    if timestamp is None:
        return None
    try:
        return dt.datetime.fromtimestamp(float(timestamp), tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


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
    deleted = 0
    try:
        with translate_database_errors(engine):
            if not inspect(engine).has_table(TRACKER_TABLE):
                where = engine.url.render_as_string(hide_password=True)
                raise SupportRequestError(f"the tracker store {where} has no '{TRACKER_TABLE}' table")
            with engine.begin() as connection:
                for start in range(0, len(ids), _DELETE_CHUNK):
                    chunk = ids[start:start + _DELETE_CHUNK]
                    deleted += connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk))).rowcount
    finally:
        if engine is not tracker_db_url:
            engine.dispose()
    return deleted
