"""Reading flagged conversations and transcripts from a tracker store shaped like Rasa's SQLTrackerStore.

The reading tests run on a SQLite and on a PostgreSQL tracker store (``tracker_db_url`` in tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, insert

from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, events_table, make_draft
from support_requests.conversations import (MAX_TRANSCRIPT_EVENTS, PREVIEW_CHARS, TrackerReader, TrackerState,
                                        requests_for, with_requests)

T0 = 1_764_061_200.0  # 2025-11-25 09:00 UTC


class RasaTracker:
    """Writes events the way Rasa's SQLTrackerStore does (``action_name`` holds a slot event's slot name)."""

    def __init__(self, where: Path | str):
        """``where``: a SQLite file, or a database URL (the ``events`` table is made when missing)."""
        self.url = where if isinstance(where, str) else f"sqlite:///{where}"
        self.engine = create_engine(self.url)
        metadata = MetaData()
        self.events = events_table(metadata)
        metadata.create_all(self.engine)

    def _add(self, sender: str, type_name: str, at: float, data: dict[str, Any], *, intent: str | None = None,
             action: str | None = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(self.events).values(
                sender_id=sender, type_name=type_name, timestamp=at, intent_name=intent, action_name=action,
                data=json.dumps({"event": type_name, "timestamp": at, **data})))

    def user(self, sender: str, text: str, at: float) -> None:
        self._add(sender, "user", at, {"text": text, "parse_data": {"intent": {"name": "describe_need"}}},
                  intent="describe_need")

    def bot(self, sender: str, text: str | None, at: float, buttons: list[str] = ()) -> None:
        self._add(sender, "bot", at, {"text": text, "data": {
            "buttons": [{"title": b, "payload": f"/{b}"} for b in buttons] or None, "custom": None}})

    def slot(self, sender: str, name: str, value: Any, at: float) -> None:
        self._add(sender, "slot", at, {"name": name, "value": value}, action=name)

    def action(self, sender: str, name: str, at: float) -> None:
        self._add(sender, "action", at, {"name": name}, action=name)

    def flag(self, sender: str, at: float) -> None:
        self.action(sender, "action_flag_for_advisor", at)
        self.bot(sender, "I have flagged this conversation for an innovation advisor.", at)
        self.slot(sender, "handoff_requested", True, at)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def tracker(tracker_db_url: str):
    rasa = RasaTracker(tracker_db_url)
    yield rasa
    rasa.close()


@pytest.fixture
def reader(tracker: RasaTracker):
    reader = TrackerReader(tracker.url)
    yield reader
    reader.close()


def test_flagged_conversations_newest_first_with_last_message_and_need(tracker, reader) -> None:
    tracker.user("conv-a", "We need GMP production of a viral vector", T0)
    tracker.slot("conv-a", "need", "GMP production of a viral vector", T0 + 1)
    tracker.user("conv-a", "can I talk to a person?", T0 + 2)
    tracker.flag("conv-a", T0 + 3)
    tracker.user("conv-b", "cryo-EM of a membrane protein", T0 + 10)
    tracker.flag("conv-b", T0 + 11)
    tracker.user("conv-c", "flow cytometry", T0 + 20)  # never flagged
    tracker.slot("conv-d", "handoff_requested", False, T0 + 30)  # set, but not to true
    found = reader.flagged()
    assert found.state is TrackerState.OK
    assert [c.conversation_id for c in found.conversations] == ["conv-b", "conv-a"]
    second = found.conversations[1]
    assert second.last_user_text == "can I talk to a person?"
    assert second.need == "GMP production of a viral vector"
    assert second.flagged_at == dt.datetime.fromtimestamp(T0 + 3, tz=dt.timezone.utc)
    assert found.conversations[0].need is None and found.conversations[0].request_references == ()


def test_a_conversation_flagged_twice_is_listed_once_at_its_latest_flag(tracker, reader) -> None:
    tracker.user("conv-a", "a person please", T0)
    tracker.flag("conv-a", T0 + 1)
    tracker.user("conv-b", "a person please", T0 + 5)
    tracker.flag("conv-b", T0 + 6)
    tracker.flag("conv-a", T0 + 9)
    assert [c.conversation_id for c in reader.flagged().conversations] == ["conv-a", "conv-b"]


def test_the_last_message_is_shortened_in_the_list(tracker, reader) -> None:
    tracker.user("conv-a", "word " * 200, T0)
    tracker.flag("conv-a", T0 + 1)
    text = reader.flagged().conversations[0].last_user_text
    assert len(text) <= PREVIEW_CHARS and text.endswith("…")


def test_flagged_list_is_limited(tracker, reader) -> None:
    for i in range(5):
        tracker.flag(f"conv-{i}", T0 + i)
    assert [c.conversation_id for c in reader.flagged(limit=2).conversations] == ["conv-4", "conv-3"]


def test_a_missing_tracker_database_is_an_empty_list_and_is_not_created(tmp_path) -> None:
    path = tmp_path / "no" / "tracker.db"
    reader = TrackerReader(f"sqlite:///{path}")
    found = reader.flagged()
    assert found.conversations == () and found.state is TrackerState.MISSING_DATABASE
    assert reader.transcript("conv-a") is None
    assert not path.exists() and not path.parent.exists()


def test_a_tracker_database_without_events_is_an_empty_list(tracker_db_url: str) -> None:
    engine = create_engine(tracker_db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS events")
        connection.exec_driver_sql("CREATE TABLE other (x INTEGER)")
    engine.dispose()
    reader = TrackerReader(tracker_db_url)
    found = reader.flagged()
    assert found.conversations == () and found.state is TrackerState.MISSING_TABLE
    assert reader.transcript("conv-a") is None
    reader.close()


def test_an_unreachable_tracker_store_is_an_empty_list(tmp_path) -> None:
    reader = TrackerReader("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    found = reader.flagged()
    assert found.conversations == () and found.state is TrackerState.UNREACHABLE
    reader.close()


def test_the_reader_never_writes(tracker, reader) -> None:
    tracker.flag("conv-a", T0)
    reader.flagged()
    engine = reader._open()
    with pytest.raises(Exception, match="readonly|read-only"):
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM events")


def test_transcript_has_user_and_bot_messages_in_order_with_buttons(tracker, reader) -> None:
    tracker.action("conv-a", "action_session_start", T0)
    tracker.user("conv-a", "We need <script>alert(1)</script> cell sorting", T0 + 1)
    tracker.slot("conv-a", "need", "cell sorting", T0 + 2)
    tracker.slot("conv-a", "last_hits", ["flow-flemingsberg", "flow-biomedicum"], T0 + 2)
    tracker.bot("conv-a", "Here is what matches", T0 + 3)
    tracker.bot("conv-a", None, T0 + 4, buttons=["Show more", "None of these fit"])
    tracker.bot("conv-a", None, T0 + 4)  # a custom payload only: nothing to show
    tracker.user("conv-a", "a person please", T0 + 5)
    tracker.flag("conv-a", T0 + 6)
    tracker.user("conv-other", "not this one", T0 + 7)
    transcript = reader.transcript("conv-a")
    assert [(m.speaker, m.text, m.buttons) for m in transcript.messages] == [
        ("user", "We need <script>alert(1)</script> cell sorting", ()),
        ("bot", "Here is what matches", ()),
        ("bot", "", ("Show more", "None of these fit")),
        ("user", "a person please", ()),
        ("bot", "I have flagged this conversation for an innovation advisor.", ()),
        ("flag", "", ()),
    ]
    assert transcript.messages[0].at == dt.datetime.fromtimestamp(T0 + 1, tz=dt.timezone.utc)
    assert transcript.flagged_at == dt.datetime.fromtimestamp(T0 + 6, tz=dt.timezone.utc)
    assert transcript.need == "cell sorting" and transcript.follow_up_need == "cell sorting"
    assert transcript.shown_entries == ("flow-flemingsberg", "flow-biomedicum")
    assert transcript.last_user_text == "a person please" and not transcript.truncated


def test_without_a_need_slot_the_follow_up_need_is_the_last_message(tracker, reader) -> None:
    tracker.user("conv-a", "I want to speak to someone about biobanks", T0)
    tracker.flag("conv-a", T0 + 1)
    assert reader.transcript("conv-a").follow_up_need == "I want to speak to someone about biobanks"


def test_an_unknown_conversation_has_no_transcript(tracker, reader) -> None:
    tracker.flag("conv-a", T0)
    assert reader.transcript("conv-unknown") is None
    assert reader.transcript("") is None
    assert reader.transcript("x" * 300) is None


def test_a_long_conversation_shows_its_latest_events(tracker, reader) -> None:
    with tracker.engine.begin() as connection:
        connection.execute(insert(tracker.events), [
            {"sender_id": "conv-long", "type_name": "user", "timestamp": T0 + i,
             "data": json.dumps({"event": "user", "text": f"message {i}"})}
            for i in range(MAX_TRANSCRIPT_EVENTS + 5)])
    transcript = reader.transcript("conv-long")
    assert transcript.truncated and len(transcript.messages) == MAX_TRANSCRIPT_EVENTS
    assert transcript.messages[0].text == "message 5"
    assert transcript.messages[-1].text == f"message {MAX_TRANSCRIPT_EVENTS + 4}"


def test_damaged_event_data_is_skipped(tracker, reader) -> None:
    with tracker.engine.begin() as connection:
        connection.execute(insert(tracker.events), [
            {"sender_id": "conv-a", "type_name": "user", "action_name": None, "timestamp": None, "data": "{not json"},
            {"sender_id": "conv-a", "type_name": "bot", "action_name": None, "timestamp": T0,
             "data": json.dumps(["a list"])},
            {"sender_id": "conv-a", "type_name": "slot", "action_name": "handoff_requested", "timestamp": T0,
             "data": json.dumps({"event": "slot", "name": "handoff_requested", "value": True})}])
    transcript = reader.transcript("conv-a")
    assert [(m.speaker, m.text, m.at) for m in transcript.messages] == [
        ("user", "", None), ("flag", "", dt.datetime.fromtimestamp(T0, tz=dt.timezone.utc))]
    assert [c.conversation_id for c in reader.flagged().conversations] == ["conv-a"]


def test_requests_opened_for_flagged_conversations(tracker, reader, tmp_path) -> None:
    tracker.flag("conv-a", T0)
    tracker.flag("conv-b", T0 + 1)
    clock = FakeClock()  # the drafts' consent is a minute before the store's now, whatever today is
    with RequestStore.from_url(f"sqlite:///{tmp_path / 'requests.db'}", clock=clock) as store:
        first = store.create(make_draft(clock, conversation_id="conv-a"), "one").reference
        second = store.create(make_draft(clock, conversation_id="conv-a"), "two").reference
        store.create(make_draft(clock, conversation_id="conv-z"), "three")
        assert requests_for(store.engine, ["conv-a", "conv-b"]) == {"conv-a": [first, second]}
        listed = with_requests(reader.flagged().conversations, store.engine)
    assert [(c.conversation_id, c.request_references) for c in listed] == [("conv-b", ()),
                                                                           ("conv-a", (first, second))]
