"""The store's behaviour, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from support_requests.errors import InvalidTransitionError, RequestNotFoundError, RequestValidationError
from support_requests.model import Recipients, RequestStatus, SupportRequest
from support_requests.store import RequestStore
from support_requests.tables import HistoryRow, OutboxRow, ReferenceCounterRow, RequestRow
from tests.support_requests.helpers import START, FakeClock


def count(store: RequestStore, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_create_stores_every_field(store: RequestStore, draft, clock: FakeClock) -> None:
    created = store.create(draft(), idempotency_key="form-1")
    assert isinstance(created, SupportRequest)
    assert created.reference == "SLT-2026-0001"
    assert created.created_at == START and created.created_at.tzinfo == dt.timezone.utc
    assert (created.company_name, created.contact_person) == ("Acme Biologics AB", "Anna Berg")
    assert created.email == "Anna.Berg@acme-bio.example.org"
    assert (created.phone, created.org_number) == ("+46 8 123 456 78", "556036-0793")
    assert created.entry_ids == ("vecura-gmp", "flow-cytometry-flemingsberg")
    assert (created.routed_contact, created.channel, created.conversation_id) == ("contact-vecura", "web", "conv-0001")
    assert created.consent.notice_version == "2026-11" and created.consent.given_at == START - dt.timedelta(minutes=1)
    assert created.status is RequestStatus.NEW and created.assignee is None
    assert [(h.field, h.old_value, h.new_value, h.actor) for h in created.history] == [
        ("status", None, "new", "company (web)")]
    assert store.get("SLT-2026-0001") == created


def test_optional_fields_may_be_left_out(store: RequestStore, draft) -> None:
    created = store.create(draft(phone=None, org_number=None, entry_ids=[], conversation_id=None), "form-1")
    assert created.phone is None and created.org_number is None
    assert created.entry_ids == () and created.conversation_id is None


def test_references_are_sequential_per_year(store: RequestStore, draft, clock: FakeClock) -> None:
    first = store.create(draft(), "a").reference
    second = store.create(draft(), "b").reference
    clock.now = dt.datetime(2027, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)
    third = store.create(draft(), "c").reference
    fourth = store.create(draft(), "d").reference
    assert [first, second, third, fourth] == ["SLT-2026-0001", "SLT-2026-0002", "SLT-2027-0001", "SLT-2027-0002"]


def test_same_idempotency_key_returns_the_stored_request(store: RequestStore, draft) -> None:
    first = store.create(draft(), "form-1")
    again = store.create(draft(need_summary="A retry with other words."), "form-1")
    assert again == first
    assert count(store, RequestRow) == 1
    assert count(store, OutboxRow) == 2  # the retry queued no second notification


def test_idempotency_key_is_not_stored_in_clear(store: RequestStore, draft) -> None:
    store.create(draft(), "conv-0001:submission")
    with store.engine.connect() as connection:
        stored = connection.execute(select(RequestRow.idempotency_key)).scalar_one()
    assert "conv-0001" not in stored and len(stored) == 64


def test_refused_draft_stores_nothing(store: RequestStore, draft) -> None:
    with pytest.raises(RequestValidationError, match="need_summary"):
        store.create(draft(need_summary="x" * 1_000_000), "form-1")
    with pytest.raises(RequestValidationError, match="consent"):
        store.create(draft(consent=None), "form-2")
    assert count(store, RequestRow) == 0 and count(store, OutboxRow) == 0
    assert count(store, ReferenceCounterRow) == 0
    assert store.create(draft(), "form-3").reference == "SLT-2026-0001"


def test_a_failure_mid_creation_leaves_no_request_no_notification_and_no_used_number(
        store: RequestStore, draft, monkeypatch: pytest.MonkeyPatch) -> None:
    import support_requests.store as store_module

    real_enqueue = store_module.enqueue

    def enqueue_then_fail(*args, **kwargs):
        real_enqueue(*args, **kwargs)
        raise RuntimeError("crash between the request and its notifications")

    monkeypatch.setattr(store_module, "enqueue", enqueue_then_fail)
    with pytest.raises(RuntimeError):
        store.create(draft(), "form-1")
    monkeypatch.setattr(store_module, "enqueue", real_enqueue)
    assert count(store, RequestRow) == 0 and count(store, OutboxRow) == 0
    assert store.create(draft(), "form-1").reference == "SLT-2026-0001"


def test_creation_queues_contact_and_advisor_emails_in_the_same_transaction(open_store, draft) -> None:
    store = open_store(recipients=Recipients(advisors_email="team@advisors.example.org"))
    created = store.create(draft(), "form-1")
    with store.engine.connect() as connection:
        rows = connection.execute(select(OutboxRow).order_by(OutboxRow.id)).all()
    assert [(r.kind, r.recipient, r.status) for r in rows] == [
        ("email", "vecura@facility.example.org", "pending"), ("email", "team@advisors.example.org", "pending")]
    contact, advisors = (json.loads(r.payload) for r in rows)
    for mail in (contact, advisors):
        assert created.reference in mail["subject"] and "Acme Biologics AB" in mail["body"]
        assert created.need_summary in mail["body"] and "vecura-gmp, flow-cytometry-flemingsberg" in mail["body"]
    assert "advisor will follow up" in contact["body"] and created.email not in contact["body"]
    assert created.email in advisors["body"] and "+46 8 123 456 78" in advisors["body"]


def test_a_configured_webhook_gets_a_notification_too(open_store, draft) -> None:
    store = open_store(recipients=Recipients(webhook_url="https://crm.example.org/hooks/navigator"))
    created = store.create(draft(), "form-1")
    records = store.outbox.records(created.reference)
    assert [r.kind for r in records] == ["email", "email", "webhook"]
    with store.engine.connect() as connection:
        payload = json.loads(connection.execute(select(OutboxRow.payload).where(OutboxRow.kind == "webhook"))
                             .scalar_one())
    assert payload["event"] == "support_request.created" and payload["reference"] == created.reference
    assert payload["entry_ids"] == ["vecura-gmp", "flow-cytometry-flemingsberg"]


def test_recipients_per_request_override_the_store_defaults(store: RequestStore, draft) -> None:
    store.create(draft(), "form-1", recipients=Recipients(advisors_email="other@advisors.example.org",
                                                           webhook_url="http://127.0.0.1:1/hook"))
    with store.engine.connect() as connection:
        recipients = connection.execute(select(OutboxRow.recipient).order_by(OutboxRow.id)).scalars().all()
    assert recipients == ["vecura@facility.example.org", "other@advisors.example.org", "http://127.0.0.1:1/hook"]


@pytest.mark.parametrize(("recipients", "field"), [(Recipients(advisors_email="nope"), "advisors_email"),
                                                   (Recipients(webhook_url="ftp://crm"), "webhook_url")])
def test_bad_recipients_are_refused(store: RequestStore, draft, recipients: Recipients, field: str) -> None:
    with pytest.raises(RequestValidationError, match=field):
        store.create(draft(), "form-1", recipients=recipients)
    assert count(store, RequestRow) == 0


@pytest.mark.parametrize("reference", ["SLT-2026-0999", "SLT-2026-1", "nonsense", "", "x" * 500])
def test_unknown_reference_is_not_found(store: RequestStore, draft, reference: str) -> None:
    store.create(draft(), "form-1")
    with pytest.raises(RequestNotFoundError):
        store.get(reference)


def test_get_accepts_any_case(store: RequestStore, draft) -> None:
    created = store.create(draft(), "form-1")
    assert store.get(" slt-2026-0001 ") == created


def test_list_filters_and_orders(store: RequestStore, draft, clock: FakeClock) -> None:
    refs = []
    for key in "abcd":
        refs.append(store.create(draft(), key).reference)
        clock.advance(hours=1)
    store.assign(refs[1], "Eva Ek", actor="eva")
    store.assign(refs[2], "Olle Ny", actor="olle")
    store.set_status(refs[3], "withdrawn", actor="console")
    assert [r.reference for r in store.list()] == refs
    assert [r.reference for r in store.list(status="assigned")] == refs[1:3]
    assert [r.reference for r in store.list(status=RequestStatus.WITHDRAWN)] == [refs[3]]
    assert [r.reference for r in store.list(assignee="Eva Ek")] == [refs[1]]
    window = store.list(created_from=START + dt.timedelta(hours=1), created_to=START + dt.timedelta(hours=3))
    assert [r.reference for r in window] == refs[1:3]
    assert store.list(status="connected") == []


def test_list_refuses_an_unknown_status_and_naive_times(store: RequestStore) -> None:
    with pytest.raises(RequestValidationError, match="status"):
        store.list(status="done")
    with pytest.raises(RequestValidationError, match="created_from"):
        store.list(created_from=dt.datetime(2026, 1, 1))


def test_status_changes_are_recorded(store: RequestStore, draft, clock: FakeClock) -> None:
    ref = store.create(draft(), "form-1").reference
    clock.advance(minutes=5)
    store.set_status(ref, RequestStatus.IN_PROGRESS, actor="Eva Ek", note="Called the company.")
    clock.advance(minutes=5)
    store.set_status(ref, "connected", actor="Eva Ek")
    clock.advance(minutes=5)
    done = store.set_status(ref, "closed", actor="Olle Ny")
    assert done.status is RequestStatus.CLOSED and done.closed_at == START + dt.timedelta(minutes=15)
    assert [(h.actor, h.field, h.old_value, h.new_value) for h in done.history[1:]] == [
        ("Eva Ek", "status", "new", "in_progress"),
        ("Eva Ek", "note", None, "note 1"),
        ("Eva Ek", "status", "in_progress", "connected"),
        ("Olle Ny", "status", "connected", "closed"),
    ]
    assert [(n.number, n.author, n.text) for n in done.notes] == [(1, "Eva Ek", "Called the company.")]
    assert done.history[1].at == START + dt.timedelta(minutes=5)


@pytest.mark.parametrize(("path", "refused"), [
    ([], "connected"),
    (["in_progress", "connected"], "new"),
    (["closed"], "in_progress"),
    (["withdrawn"], "closed"),
    (["in_progress"], "in_progress"),
])
def test_invalid_transitions_change_nothing(store: RequestStore, draft, path: list[str], refused: str) -> None:
    ref = store.create(draft(), "form-1").reference
    for status in path:
        store.set_status(ref, status, actor="eva")
    before = store.get(ref)
    with pytest.raises(InvalidTransitionError, match=ref):
        store.set_status(ref, refused, actor="eva", note="should not be stored")
    assert store.get(ref) == before


def test_set_status_checks_its_inputs_first(store: RequestStore, draft) -> None:
    ref = store.create(draft(), "form-1").reference
    before = store.get(ref)
    for call in (lambda: store.set_status(ref, "done", actor="eva"),
                 lambda: store.set_status(ref, "in_progress", actor=""),
                 lambda: store.set_status(ref, "in_progress", actor="eva", note="n" * 1_000_000)):
        with pytest.raises(RequestValidationError):
            call()
    assert store.get(ref) == before
    with pytest.raises(RequestNotFoundError):
        store.set_status("SLT-2026-0404", "closed", actor="eva")


def test_assigning_a_new_request_makes_it_assigned(store: RequestStore, draft) -> None:
    ref = store.create(draft(), "form-1").reference
    assigned = store.assign(ref, "Eva Ek", actor="lead")
    assert assigned.status is RequestStatus.ASSIGNED and assigned.assignee == "Eva Ek"
    assert [(h.field, h.old_value, h.new_value) for h in assigned.history[1:]] == [
        ("assignee", None, "Eva Ek"), ("status", "new", "assigned")]
    assert store.assign(ref, "Eva Ek", actor="lead") == assigned  # the same advisor again changes nothing


def test_reassigning_keeps_the_status(store: RequestStore, draft) -> None:
    ref = store.create(draft(), "form-1").reference
    store.set_status(ref, "in_progress", actor="lead")
    moved = store.assign(ref, "Olle Ny", actor="lead")
    moved = store.assign(ref, "Eva Ek", actor="lead")
    assert moved.status is RequestStatus.IN_PROGRESS and moved.assignee == "Eva Ek"
    assert (moved.history[-1].old_value, moved.history[-1].new_value) == ("Olle Ny", "Eva Ek")


@pytest.mark.parametrize("terminal", ["closed", "withdrawn"])
def test_closed_requests_cannot_be_assigned(store: RequestStore, draft, terminal: str) -> None:
    ref = store.create(draft(), "form-1").reference
    store.set_status(ref, terminal, actor="lead")
    with pytest.raises(InvalidTransitionError):
        store.assign(ref, "Eva Ek", actor="lead")
    assert store.get(ref).assignee is None


def test_notes_are_numbered(store: RequestStore, draft) -> None:
    ref = store.create(draft(), "form-1").reference
    store.add_note(ref, "eva", "First.")
    noted = store.add_note(ref, "olle", "Second,\nwith two lines.")
    assert [(n.number, n.author, n.text) for n in noted.notes] == [(1, "eva", "First."),
                                                                   (2, "olle", "Second,\nwith two lines.")]
    with pytest.raises(RequestValidationError, match="note"):
        store.add_note(ref, "eva", "x" * 5001)
    with pytest.raises(RequestValidationError, match="note"):
        store.add_note(ref, "eva", "  ")
    assert len(store.get(ref).notes) == 2


@pytest.mark.parametrize(("reference", "email", "found"), [
    ("SLT-2026-0001", "Anna.Berg@acme-bio.example.org", True),
    ("slt-2026-0001", "ANNA.BERG@ACME-BIO.EXAMPLE.ORG", True),
    ("SLT-2026-0001", " anna.berg@acme-bio.example.org ", True),
    ("SLT-2026-0001", "someone.else@acme-bio.example.org", False),
    ("SLT-2026-0002", "Anna.Berg@acme-bio.example.org", False),   # another company's request
    ("SLT-2026-0999", "Anna.Berg@acme-bio.example.org", False),   # does not exist: same answer
    ("garbage", "Anna.Berg@acme-bio.example.org", False),
    ("SLT-2026-0001", "not an email", False),
])
def test_find_for_company(store: RequestStore, draft, reference: str, email: str, found: bool) -> None:
    store.create(draft(), "form-1")
    store.create(draft(email="other@company.example.org"), "form-2")
    result = store.find_for_company(reference, email)
    assert (result is not None) is found
    if found:
        assert result.reference == "SLT-2026-0001"


def test_history_rows_hold_no_personal_values(store: RequestStore, draft) -> None:
    ref = store.create(draft(), "form-1").reference
    store.assign(ref, "Eva Ek", actor="lead")
    store.set_status(ref, "in_progress", actor="lead", note="Phoned +46 8 123 456 78")
    with store.engine.connect() as connection:
        values = connection.execute(select(HistoryRow.old_value, HistoryRow.new_value)).all()
    flat = " ".join(str(v) for row in values for v in row)
    assert "+46" not in flat and "@" not in flat


def test_returned_values_are_frozen(store: RequestStore, draft) -> None:
    created = store.create(draft(), "form-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.status = RequestStatus.CLOSED  # type: ignore[misc]
