"""Erasure on request and by retention, and deleting the conversations' tracker events."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import MetaData, func, insert, select

from support_requests.database import open_engine
from support_requests.conversations import erase_tracker_events, tracker_has_events
from support_requests.errors import (RequestNotFoundError, RequestValidationError, StoreUnavailableError,
                                     SupportRequestError)
from support_requests.model import ERASED_MARKER, ErasureReport, RequestStatus
from support_requests.store import RequestStore
from support_requests.tables import Base, OutboxRow
from tests.support_requests.helpers import FakeClock, events_table

PERSONAL = ("Anna Berg", "Anna.Berg@acme-bio.example.org", "+46 8 123 456 78", "556036-0793",
            "Acme Biologics AB", "GMP production of an AAV vector", "conv-0001", "Secret note")


def test_erase_by_email_covers_every_request_of_that_address(store: RequestStore, draft) -> None:
    first = store.create(draft(), "form-1").reference
    second = store.create(draft(email="anna.berg@ACME-BIO.example.org", conversation_id="conv-0002"),
                          "form-2").reference
    other = store.create(draft(email="someone@else.example.org", conversation_id="conv-9"), "form-3").reference
    store.add_note(first, "eva", "Secret note about Anna Berg")
    report = store.erase(email="ANNA.BERG@acme-bio.example.org")
    assert report == ErasureReport(references=(first, second), conversation_ids=("conv-0001", "conv-0002"))
    for reference in (first, second):
        erased = store.get(reference)
        assert erased.is_erased
        assert (erased.company_name, erased.contact_person, erased.need_summary) == (ERASED_MARKER,) * 3
        assert erased.email is None and erased.phone is None and erased.org_number is None
        assert erased.conversation_id is None
        assert all(note.text == ERASED_MARKER for note in erased.notes)
        # kept for statistics
        assert erased.reference == reference and erased.status is RequestStatus.NEW
        assert erased.entry_ids == ("vecura-gmp", "flow-cytometry-flemingsberg")
        assert erased.routed_contact == "contact-vecura" and erased.channel == "web"
        assert (erased.history[-1].field, erased.history[-1].new_value) == ("personal_data", "erased")
    assert store.get(other).email == "someone@else.example.org"


def test_erased_data_is_gone_from_every_table(store: RequestStore, draft) -> None:
    reference = store.create(draft(), "form-1").reference
    store.add_note(reference, "eva", "Secret note")
    store.erase(reference=reference)
    with store.engine.connect() as connection:
        dump = []
        for table in Base.metadata.sorted_tables:
            dump += [json.dumps([str(v) for v in row]) for row in connection.execute(select(table)).all()]
    text = "\n".join(dump)
    for value in PERSONAL:
        assert value not in text


def test_erasure_cancels_unsent_notifications(store: RequestStore, draft) -> None:
    reference = store.create(draft(), "form-1").reference
    store.erase(reference=reference)
    assert [r.status for r in store.outbox.records(reference)] == ["cancelled", "cancelled"]
    with store.engine.connect() as connection:
        assert set(connection.execute(select(OutboxRow.payload)).scalars()) == {"{}"}


def test_erase_by_reference_and_repeat(store: RequestStore, draft) -> None:
    reference = store.create(draft(), "form-1").reference
    assert store.erase(reference=reference.lower()).references == (reference,)
    assert store.erase(reference=reference) == ErasureReport()  # already erased: nothing more to do
    assert store.erase(email="Anna.Berg@acme-bio.example.org") == ErasureReport()
    assert store.find_for_company(reference, "Anna.Berg@acme-bio.example.org") is None


def test_erase_refuses_unclear_requests(store: RequestStore, draft) -> None:
    store.create(draft(), "form-1")
    with pytest.raises(RequestValidationError, match="either"):
        store.erase()
    with pytest.raises(RequestValidationError, match="either"):
        store.erase(email="Anna.Berg@acme-bio.example.org", reference="SLT-2026-0001")
    with pytest.raises(RequestValidationError, match="email"):
        store.erase(email="not-an-address")
    with pytest.raises(RequestNotFoundError):
        store.erase(reference="SLT-2026-0404")
    assert not store.get("SLT-2026-0001").is_erased


def test_erase_of_an_unknown_email_erases_nothing(store: RequestStore, draft) -> None:
    store.create(draft(), "form-1")
    assert store.erase(email="nobody@example.org") == ErasureReport()


def test_purge_counts_from_closing_not_from_creation(store: RequestStore, draft, clock: FakeClock) -> None:
    old_closed = store.create(draft(), "a").reference
    old_withdrawn = store.create(draft(), "b").reference
    old_open = store.create(draft(), "c").reference
    late_closed = store.create(draft(), "d").reference
    store.set_status(old_closed, "closed", actor="eva")
    store.set_status(old_withdrawn, "withdrawn", actor="eva")
    store.set_status(old_open, "in_progress", actor="eva")
    clock.advance(days=300)
    store.set_status(late_closed, "closed", actor="eva")  # created long ago, closed only now
    clock.advance(days=65)
    assert store.purge(retention_days=365) == 2
    assert {r.reference for r in store.list() if r.is_erased} == {old_closed, old_withdrawn}
    assert store.purge(retention_days=365) == 0
    assert store.purge(retention_days=365, now=clock.advance(days=300)) == 1
    assert store.get(late_closed).is_erased and not store.get(old_open).is_erased
    assert store.get(late_closed).history[-1].actor == "retention"


def test_purge_boundary_is_inclusive(store: RequestStore, draft, clock: FakeClock) -> None:
    reference = store.create(draft(), "a").reference
    closed_at = store.set_status(reference, "closed", actor="eva").closed_at
    assert store.purge(retention_days=30, now=closed_at + dt.timedelta(days=30, seconds=-1)) == 0
    assert store.purge(retention_days=30, now=closed_at + dt.timedelta(days=30)) == 1


@pytest.mark.parametrize("days", [-1, "365", 1.5, True])
def test_purge_refuses_a_bad_retention(store: RequestStore, days) -> None:
    with pytest.raises(RequestValidationError, match="retention_days"):
        store.purge(retention_days=days)


def test_erase_tracker_events_deletes_only_those_conversations(database_url: str, store: RequestStore,
                                                               draft) -> None:
    metadata = MetaData()
    events = events_table(metadata)
    engine = open_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        for i, sender in enumerate(["conv-0001", "conv-0001", "conv-0002", "conv-keep", "conv-0001"]):
            connection.execute(insert(events).values(sender_id=sender, type_name="user", timestamp=1000.0 + i,
                                                     intent_name="inform", data=json.dumps({"text": "hi"})))
    store.create(draft(), "form-1")
    store.create(draft(conversation_id="conv-0002"), "form-2")
    report = store.erase(email="Anna.Berg@acme-bio.example.org")
    assert erase_tracker_events(database_url, report.conversation_ids) == 4
    with engine.connect() as connection:
        left = connection.execute(select(events.c.sender_id)).scalars().all()
    assert left == ["conv-keep"]
    assert erase_tracker_events(database_url, report.conversation_ids) == 0
    engine.dispose()


def test_erase_tracker_events_with_nothing_to_delete_does_not_connect() -> None:
    assert erase_tracker_events("postgresql+psycopg://nobody@127.0.0.1:1/none", []) == 0


def test_erase_tracker_events_without_an_events_table(database_url: str) -> None:
    with pytest.raises(SupportRequestError, match="no 'events' table"):
        erase_tracker_events(database_url, ["conv-1"])


def test_erase_tracker_events_in_chunks(tracker_db_url: str) -> None:
    url = tracker_db_url
    metadata = MetaData()
    events = events_table(metadata)
    engine = open_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(events), [{"sender_id": f"c{i}", "type_name": "user"} for i in range(1200)])
    assert erase_tracker_events(url, [f"c{i}" for i in range(1100)]) == 1100
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 100
    engine.dispose()


def test_the_tracker_store_has_events_once_rasas_table_exists(database_url: str) -> None:
    assert not tracker_has_events(database_url)  # a SQLite file not yet made, or an empty PostgreSQL database
    metadata = MetaData()
    events_table(metadata)
    engine = open_engine(database_url)
    metadata.create_all(engine)
    engine.dispose()
    assert tracker_has_events(database_url)


def test_an_unreachable_tracker_store_is_reported() -> None:
    with pytest.raises(StoreUnavailableError):
        tracker_has_events("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreUnavailableError):
        erase_tracker_events("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1", ["conv-1"])
