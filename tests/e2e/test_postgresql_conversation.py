"""One whole conversation to a stored support request with both databases on PostgreSQL.

The shared ``stack`` runs on SQLite. This module starts a second stack, once (it costs as long as the first),
whose request database and Rasa's tracker store are two databases on the session's PostgreSQL server: Rasa
writes its events there through its own SQL tracker store, the service stores the request there. The
conversation is the one tests/e2e/test_conversations.py drives to a stored request; afterwards the
conversation is read back from Rasa's events, as the console does, and erased, as erasure and retention do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from navigator.launcher import Stack
from navigator.settings import Settings
from support_requests.conversations import TrackerReader, TrackerState, erase_tracker_events
from tests.conftest import started_stack
from tests.e2e.conftest import Conversation, ResponseNames
from tests.e2e.test_conversations import (
    test_a_completed_support_request_is_stored_exactly_once as converse_to_a_stored_request,
)
from tests.servers import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def postgresql_stack(tmp_path_factory: pytest.TempPathFactory,
                     postgres_server: PostgresServer) -> Iterator[tuple[Stack, Settings]]:
    """Like ``stack`` (tests/conftest.py), with the request database and the tracker store on PostgreSQL."""
    with postgres_server.database() as database_url, postgres_server.database() as tracker_db_url:
        with started_stack(tmp_path_factory.mktemp("postgresql-stack"), database_url, tracker_db_url) as started:
            yield started


def test_a_conversation_stores_its_request_and_events_on_postgresql(postgresql_stack, names: ResponseNames) -> None:
    stack, settings = postgresql_stack
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.tracker_db_url.startswith("postgresql+psycopg://")
    chat = Conversation(stack, names)
    converse_to_a_stored_request(chat, postgresql_stack)  # asserts the request stored in PostgreSQL, once

    reader = TrackerReader(settings.tracker_db_url)
    try:
        assert reader.state() is TrackerState.OK  # Rasa made its table there, not in memory
        transcript = reader.transcript(chat.sender)
        assert transcript is not None
        said = [m.text for m in transcript.messages if m.speaker == "user"]
        assert said[-1] == "confirm" and "alex@acme-bio.se" in said
        assert any(m.speaker == "bot" and m.text for m in transcript.messages)
        assert transcript.need and transcript.shown_entries  # the search's slots, read from Rasa's events

        assert erase_tracker_events(settings.tracker_db_url, [chat.sender]) > len(transcript.messages)
        assert reader.transcript(chat.sender) is None
        assert erase_tracker_events(settings.tracker_db_url, [chat.sender]) == 0
    finally:
        reader.close()
