"""``/api/requests``: listing, reading, creating (idempotently) and updating support requests with a token."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from support_requests.store import RequestStore
from support_requests.tables import OutboxRow, RequestRow
from tests.support_requests.helpers import FakeClock, make_draft
from tests.web.api_fixtures import ApiWorld, api, new_request_body  # noqa: F401  (fixture)


async def error_of(response) -> tuple[str, str | None]:
    assert response.content_type == "application/json", await response.text()
    body = await response.json()
    return body["error"], body.get("field")


async def create(api: ApiWorld, body: dict | None = None, key: str = "form-1", token: str | None = None):
    return await api.client.post("/api/requests", json=body or new_request_body(),
                                 headers={**api.auth(token or api.advisor), "Idempotency-Key": key})


def seed(api: ApiWorld, when: dt.datetime, **changes) -> str:
    """A request stored directly at ``when`` (the store's clock), with its reference."""
    store = RequestStore(api.store.engine, clock=FakeClock(when))
    draft = make_draft(FakeClock(when), entry_ids=["vecura-gmp"], routed_contact="contact-desk",
                       routed_contact_email="contact-desk@example.org", **changes)
    return store.create(draft, f"seed-{when.isoformat()}-{changes}").reference


def recipients(api: ApiWorld, reference: str) -> set[str]:
    """Where the request's notifications go."""
    with Session(api.store.engine) as session:
        return set(session.scalars(select(OutboxRow.recipient).join(RequestRow, RequestRow.id == OutboxRow.request_id)
                                   .where(RequestRow.reference == reference)))


# -- creating -------------------------------------------------------------------------------------------------


async def test_create_stores_a_routed_request_with_its_notifications(api: ApiWorld) -> None:
    response = await create(api)
    assert response.status == 201
    body = await response.json()
    reference = body["reference"]
    assert response.headers["Location"] == f"/api/requests/{reference}"
    assert (body["status"], body["channel"], body["routed_contact"]) == ("new", "api", "contact-desk")
    assert body["entry_ids"] == ["vecura-gmp"] and body["consent"]["notice_version"] == "2026-11"
    assert body["history"] == [{"at": body["created_at"], "actor": "company (api)", "field": "status",
                                "from": None, "to": "new"}]
    stored = api.store.get(reference)
    assert stored.email == "anna.berg@acme.example" and stored.phone == "+46 8 123 456 78"
    assert recipients(api, reference) == {"contact-desk@example.org", "advisors@example.org"}


async def test_a_repeated_idempotency_key_returns_the_same_request_with_200(api: ApiWorld) -> None:
    first = await create(api, key="crm-42")
    again = await create(api, key="crm-42", body=new_request_body(company_name="Changed AB"))
    assert (first.status, again.status) == (201, 200)
    assert (await again.json()) == (await first.json())
    assert len(api.store.list()) == 1
    assert (await create(api, key="crm-43")).status == 201 and len(api.store.list()) == 2


async def test_idempotency_keys_belong_to_their_client(api: ApiWorld) -> None:
    other = api.tokens.create("second-crm", "advisor")
    first, second = await create(api, key="k"), await create(api, key="k", token=other)
    assert (first.status, second.status) == (201, 201)
    assert (await first.json())["reference"] != (await second.json())["reference"]


async def test_routing_follows_routed_contact_or_falls_back_to_the_advisors(api: ApiWorld) -> None:
    explicit = await create(api, new_request_body(entry_ids=["almi-loans"], routed_contact="contact-desk"), "a")
    assert (await explicit.json())["routed_contact"] == "contact-desk"
    nothing_chosen = await create(api, new_request_body(entry_ids=[]), "b")
    body = await nothing_chosen.json()
    assert nothing_chosen.status == 201 and body["routed_contact"] == "contact-slt-advisors"
    assert recipients(api, body["reference"]) == {"advisors@example.org"}


async def test_create_without_an_idempotency_key_is_400(api: ApiWorld) -> None:
    response = await api.client.post("/api/requests", json=new_request_body(), headers=api.auth(api.advisor))
    assert response.status == 400 and "Idempotency-Key" in (await error_of(response))[0]
    long_key = await create(api, key="k" * 101)
    assert long_key.status == 400 and "1 to 100 printable ASCII characters" in (await error_of(long_key))[0]
    blank = await create(api, key="   ")
    assert blank.status == 400 and "send an 'Idempotency-Key' header" in (await error_of(blank))[0]
    for key in ("clé", "tab\there"):
        response = await create(api, key=key)
        assert response.status == 400 and "printable ASCII" in (await error_of(response))[0], key
    assert api.store.list() == []


async def test_optional_fields_may_be_empty_or_null(api: ApiWorld) -> None:
    body = new_request_body(phone="", org_number="", conversation_id="", routed_contact=None)
    response = await create(api, body)
    assert response.status == 201, await response.text()
    stored = api.store.get((await response.json())["reference"])
    assert (stored.phone, stored.org_number, stored.conversation_id) == (None, None, None)
    spaced = await create(api, new_request_body(phone="(08) 123-456 78", org_number="16556036-0793"), "b")
    assert spaced.status == 201 and (await spaced.json())["org_number"] == "556036-0793"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"email": "not-an-address"}, "email", "is not a valid email address"),
    ({"email": " anna.berg@acme.example"}, "email", "is not a valid email address"),
    ({"email": "anna@acme.test"}, "email", "is not a valid email address"),
    ({"company_name": ""}, "company_name", "is required"),
    ({"company_name": " \u3000"}, "company_name", "is required"),
    ({"company_name": "Acme\tBio"}, "company_name", "may not contain line breaks or control characters"),
    ({"company_name": "A" * 201}, "company_name", "at most 200"),
    ({"need_summary": "GMP\x00"}, "need_summary", "may not contain control characters"),
    ({"need_summary": "\n\n"}, "need_summary", "is required"),
    ({"conversation_id": "a\nb"}, "conversation_id", "may not contain line breaks"),
    ({"phone": "  "}, "phone", "may hold only digits"),
    ({"phone": "12345"}, "phone", "with 6 to 20 digits"),
    ({"org_number": "556036 0793"}, "org_number", "must be 10 digits as NNNNNN-NNNN"),
    ({"entry_ids": None}, "entry_ids", "must be a list of entry ids"),
    ({"consent": {"given_at": "1999-12-31T23:00:00Z", "notice_version": "2026-11"}}, "consent", "year 2000"),
    ({"consent": {"given_at": "2020-11-25 09:00:00Z", "notice_version": "2026-11"}}, "consent", "ISO date and time"),
    ({"consent": {"given_at": "2020-11-25T09:00:00Z", "notice_version": " "}}, "consent", "notice_version must be"),
    ({"company_name": 42}, "company_name", "must be text"),
    ({"contact_person": None}, "contact_person", "is required"),
    ({"need_summary": "x" * 5001}, "need_summary", "at most 5000"),
    ({"org_number": "556036-0794"}, "org_number", "wrong check digit"),
    ({"phone": "call me"}, "phone", "may hold only digits"),
    ({"entry_ids": ["no-such-entry"]}, "entry_ids", "no catalogue entry with id 'no-such-entry'"),
    ({"entry_ids": "vecura-gmp"}, "entry_ids", "must be a list of entry ids"),
    ({"entry_ids": {"vecura-gmp": 1}}, "entry_ids", "must be a list of entry ids"),
    ({"entry_ids": [7]}, "entry_ids", "must be catalogue entry ids"),
    ({"routed_contact": "vecura-gmp"}, "routed_contact", "must be the id of a contact (expert) entry"),
    ({"consent": None}, "consent", "is required"),
    ({"consent": "yes"}, "consent", "must be an object with given_at"),
    ({"consent": {"given_at": "yesterday", "notice_version": "2026-11"}}, "consent", "ISO date and time"),
    ({"consent": {"given_at": "2020-11-25T09:00:00", "notice_version": "2026-11"}}, "consent", "UTC offset"),
    ({"consent": {"given_at": "2099-01-01T00:00:00Z", "notice_version": "2026-11"}}, "consent", "in the future"),
    ({"consent": {"given_at": "2020-11-25T09:00:00Z"}}, "consent", "given_at and notice_version are required"),
    ({"channel": "web"}, "channel", "unknown field 'channel'"),
])
async def test_an_unacceptable_field_is_422_naming_it_and_nothing_is_stored(
        api: ApiWorld, changes: dict, field: str, message: str) -> None:
    response = await create(api, new_request_body(**changes))
    error, named = await error_of(response)
    assert response.status == 422 and named == field and message in error
    assert api.store.list() == [] and api.store.outbox.records() == []


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/requests"), ("PATCH", "/api/requests/SLT-2026-0001")])
async def test_malformed_bodies_are_refused_with_4xx(api: ApiWorld, method: str, path: str) -> None:
    headers = {**api.auth(api.advisor), "Idempotency-Key": "k"}
    cases = [
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON (line 1"),
        ({"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, 400, "must be a JSON object"),
        ({"data": b"", "headers": {"Content-Type": "application/json"}}, 400, "the body is empty"),
        ({"data": b"\xff\xfe{}", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
        ({"data": b"company_name=Acme", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415,
         "Content-Type: application/json"),
        ({"data": b'{"a": 1}', "headers": {"Content-Type": "text/plain"}}, 415, "Content-Type: application/json"),
        ({"data": json.dumps({"x": "a" * 70_000}).encode(), "headers": {"Content-Type": "application/json"}}, 413,
         "at most 64 KiB"),
    ]
    for options, status, message in cases:
        response = await api.client.request(method, path, data=options["data"],
                                            headers={**headers, **options["headers"]})
        assert response.status == status and message in (await error_of(response))[0], options
    assert api.store.list() == []


async def test_an_oversized_chunked_body_is_413(api: ApiWorld) -> None:
    async def chunks():
        for _ in range(40):
            yield b" " * 4096
        yield b"{}"

    response = await api.client.post("/api/requests", data=chunks(),
                                     headers={**api.auth(api.advisor), "Idempotency-Key": "k",
                                              "Content-Type": "application/json"})
    assert response.status == 413 and "at most 64 KiB" in (await error_of(response))[0]


# -- reading --------------------------------------------------------------------------------------------------


async def test_get_returns_everything_about_a_request(api: ApiWorld) -> None:
    reference = (await (await create(api)).json())["reference"]
    api.store.add_note(reference, "Eva Ek", "Called them.")
    response = await api.client.get(f"/api/requests/{reference.lower()}", headers=api.auth(api.advisor))
    body = await response.json()
    assert response.status == 200 and body["reference"] == reference
    assert body["notes"][0]["text"] == "Called them." and body["notes"][0]["author"] == "Eva Ek"
    assert body["history"][-1]["to"] == "note 1" and body["need_summary"].startswith("GMP manufacturing")


@pytest.mark.parametrize("reference", ["SLT-2026-9999", "not-a-reference", "SLT-26-1"])
async def test_an_unknown_reference_is_404(api: ApiWorld, reference: str) -> None:
    response = await api.client.get(f"/api/requests/{reference}", headers=api.auth(api.advisor))
    assert response.status == 404 and "no support request with reference" in (await error_of(response))[0]


async def test_list_filters_and_pages(api: ApiWorld) -> None:
    day = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
    refs = [seed(api, day + dt.timedelta(days=offset), company_name=f"Company {offset}") for offset in range(4)]
    api.store.assign(refs[1], "Eva Ek", actor="lead")
    get = lambda query: api.client.get(f"/api/requests{query}", headers=api.auth(api.advisor))  # noqa: E731

    everything = await (await get("")).json()
    assert everything["total"] == 4 and [r["reference"] for r in everything["requests"]] == refs
    assert everything["requests"][0]["company_name"] == "Company 0" and "notes" not in everything["requests"][0]
    assert [r["reference"] for r in (await (await get("?status=assigned")).json())["requests"]] == [refs[1]]
    assert [r["reference"] for r in (await (await get("?assignee=Eva%20Ek")).json())["requests"]] == [refs[1]]
    window = await (await get("?created_from=2026-11-21&created_to=2026-11-22")).json()
    assert [r["reference"] for r in window["requests"]] == refs[1:3]  # a date as upper bound includes its day
    timed = await (await get("?created_from=2026-11-21T10:00:00%2B00:00&created_to=2026-11-22T10:00:00Z")).json()
    assert [r["reference"] for r in timed["requests"]] == [refs[1]]  # a time as upper bound is exclusive
    page = await (await get("?limit=2&offset=1")).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    assert [r["reference"] for r in page["requests"]] == refs[1:3]


@pytest.mark.parametrize(("query", "message"), [
    ("?status=done", "status: unknown status 'done'; use one of: new, assigned, in_progress"),
    ("?created_from=yesterday", "created_from must be an ISO date"),
    ("?created_to=2026-13-01", "created_to must be an ISO date"),
    ("?created_from=2026-11-21T10:00:00", "created_from needs a UTC offset"),
    ("?created_from=", "created_from must be an ISO date"),
    ("?created_from=2026-11-21%2010:00:00Z", "created_from must be an ISO date"),
    ("?created_to=2026-W48-1", "created_to must be an ISO date"),
    ("?status=", "status: unknown status ''; use one of: new, assigned"),
    ("?status=NEW", "status: unknown status 'NEW'"),
    ("?status=in-progress", "status: unknown status 'in-progress'"),
    ("?limit=201", "limit must be a whole number between 1 and 200"),
    ("?offset=-1", "offset must be a whole number at least 0"),
    ("?sort=desc", "unknown parameter 'sort'"),
    # PostgreSQL cannot compare text with a NUL character: refused here rather than failing in the database.
    ("?assignee=Eva%00Ek", "assignee must be an advisor's name"),
    ("?assignee=Eva%0AEk", "assignee must be an advisor's name"),
    ("?assignee=" + "E" * 201, "assignee must be an advisor's name: one line of at most 200 characters"),
])
async def test_list_bad_filters_are_400(api: ApiWorld, query: str, message: str) -> None:
    response = await api.client.get(f"/api/requests{query}", headers=api.auth(api.advisor))
    assert response.status == 400 and message in (await error_of(response))[0]


async def test_list_takes_any_rfc3339_range(api: ApiWorld) -> None:
    seed(api, dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc))
    get = lambda query: api.client.get(f"/api/requests{query}", headers=api.auth(api.advisor))  # noqa: E731
    reversed_range = await get("?created_from=2026-11-22&created_to=2026-11-20")
    assert reversed_range.status == 200 and (await reversed_range.json())["total"] == 0
    # Moments whose UTC lies beyond year 1 or 9999 are the earliest or latest there is.
    widest = await get("?created_from=0001-01-01T00:00:00%2B01:00&created_to=9999-12-31")
    assert widest.status == 200 and (await widest.json())["total"] == 1
    latest = await get("?created_from=9999-12-31T23:59:59-01:00")
    assert latest.status == 200 and (await latest.json())["total"] == 0
    lower_case = await get("?created_from=2026-11-20t09:00:00.123456789z&created_to=2026-11-20T23:59:60Z")
    assert lower_case.status == 200 and (await lower_case.json())["total"] == 1


# -- updating -------------------------------------------------------------------------------------------------


async def patch(api: ApiWorld, reference: str, body: dict):
    return await api.client.patch(f"/api/requests/{reference}", json=body, headers=api.auth(api.advisor))


async def test_patch_assigns_moves_and_notes_recording_the_token(api: ApiWorld) -> None:
    reference = (await (await create(api)).json())["reference"]
    response = await patch(api, reference, {"assignee": "Eva Ek", "status": "in_progress", "note": "Called them."})
    body = await response.json()
    assert response.status == 200 and (body["status"], body["assignee"]) == ("in_progress", "Eva Ek")
    assert body["notes"] == [{"number": 1, "at": body["updated_at"], "author": "token:crm-advisor",
                              "text": "Called them."}]
    changes = [(h["actor"], h["field"], h["from"], h["to"]) for h in body["history"][1:]]
    assert changes == [("token:crm-advisor", "assignee", None, "Eva Ek"),
                       ("token:crm-advisor", "status", "new", "assigned"),
                       ("token:crm-advisor", "status", "assigned", "in_progress"),
                       ("token:crm-advisor", "note", None, "note 1")]
    assert api.store.get(reference).status.value == "in_progress"


async def test_patch_with_only_a_note_or_only_an_assignee(api: ApiWorld) -> None:
    reference = (await (await create(api)).json())["reference"]
    noted = await (await patch(api, reference, {"note": "First contact made."})).json()
    assert noted["status"] == "new" and [n["text"] for n in noted["notes"]] == ["First contact made."]
    assigned = await (await patch(api, reference, {"assignee": "Eva Ek", "status": "assigned"})).json()
    assert (assigned["status"], assigned["assignee"]) == ("assigned", "Eva Ek")


async def test_a_refused_transition_is_409_with_the_stores_message_and_changes_nothing(api: ApiWorld) -> None:
    reference = (await (await create(api)).json())["reference"]
    response = await patch(api, reference, {"assignee": "Eva Ek", "status": "connected"})
    error, _ = await error_of(response)
    assert response.status == 409
    assert error == (f"{reference} cannot go from 'assigned' to 'connected'; "
                     "from 'assigned' it can go to: in_progress, closed, withdrawn")
    unchanged = api.store.get(reference)
    assert (unchanged.status.value, unchanged.assignee, len(unchanged.history)) == ("new", None, 1)
    await patch(api, reference, {"status": "closed"})
    closed = await patch(api, reference, {"assignee": "Eva Ek"})
    assert closed.status == 409 and "a closed request cannot be assigned" in (await error_of(closed))[0]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, None, "give at least one of: status, assignee, note"),
    ({"status": None}, "status", "unknown status null"),
    ({"status": "done"}, "status", "unknown status 'done'"),
    ({"status": "In_Progress"}, "status", "unknown status 'In_Progress'"),
    ({"status": ["new"]}, "status", "unknown status [\"new\"]"),
    ({"assignee": ""}, "assignee", "assignee: is required"),
    ({"assignee": None, "note": "Called."}, "assignee", "assignee: is required"),
    ({"note": " \n "}, "note", "note: is required"),
    ({"assignee": "Eva\nEk"}, "assignee", "may not contain line breaks"),
    ({"note": "x" * 5001}, "note", "at most 5000"),
    ({"note": ["a"]}, "note", "must be text"),
    ({"priority": "high"}, "priority", "unknown field 'priority'; accepted: status, assignee, note"),
])
async def test_patch_bad_fields_are_422_and_change_nothing(api: ApiWorld, body: dict, field: str | None,
                                                           message: str) -> None:
    reference = (await (await create(api)).json())["reference"]
    response = await patch(api, reference, body)
    error, named = await error_of(response)
    assert response.status == 422 and named == field and message in error
    assert len(api.store.get(reference).history) == 1


async def test_patch_an_unknown_reference_is_404(api: ApiWorld) -> None:
    response = await patch(api, "SLT-2026-9999", {"status": "closed"})
    assert response.status == 404 and "SLT-2026-9999" in (await error_of(response))[0]
