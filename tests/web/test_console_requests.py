"""Support requests in the console: opening one, the queue and its filters, one request's forms, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from support_requests.model import Consent, RequestDraft, RequestStatus
from tests.web.conftest import ConsoleWorld

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def draft(company: str = "Acme Bio AB", **fields) -> RequestDraft:
    values = dict(company_name=company, contact_person="Anna Berg", email="anna@acme.example",
                  need_summary="Flow cytometry for immune cells.", entry_ids=["flow-flemingsberg"],
                  routed_contact="contact-desk", routed_contact_email="contact-desk@example.org", channel="web",
                  conversation_id="conv-1",
                  consent=Consent(dt.datetime.now(dt.timezone.utc), "2026-11"))
    values.update(fields)
    return RequestDraft(**values)


def seed(world: ConsoleWorld, company: str = "Acme Bio AB", key: str | None = None, **fields) -> str:
    return world.store.create(draft(company, **fields), key or f"seed:{company}").reference


async def new_form(world: ConsoleWorld, query: str = "") -> tuple[int, str, str | None]:
    response = await world.client.get(f"/console/requests/new{query}")
    html = await response.text()
    found = NONCE.search(html)
    return response.status, html, found.group(1) if found else None


def form_values(nonce: str, **overrides: str | list[str]) -> dict:
    values = {"company_name": "Acme Bio AB", "contact_person": "Anna Berg", "email": "anna@acme.example",
              "phone": "", "org_number": "", "need_summary": "GMP manufacturing of an AAV vector.",
              "entry": "vecura-gmp", "offered": "vecura-gmp", "conversation_id": "", "consent": "yes",
              "nonce": nonce}
    values.update(overrides)
    return values


# -- opening a request -------------------------------------------------------------------------------------------


async def test_the_new_request_form_is_prefilled_from_the_intake_search(signed_in: ConsoleWorld) -> None:
    status, html, nonce = await new_form(
        signed_in, "?entries=vecura-gmp,flow-flemingsberg&need=They+need+GMP+AAV")
    assert status == 200 and nonce
    assert ">They need GMP AAV</textarea>" in html
    assert 'name="entry" value="vecura-gmp" checked' in html
    assert 'name="entry" value="flow-flemingsberg" checked' in html
    assert 'name="consent" value="yes" id="consent">' in html  # never ticked in advance


async def test_opening_a_request_stores_it_once_with_the_consent_note(signed_in: ConsoleWorld) -> None:
    _, _, nonce = await new_form(signed_in, "?entries=vecura-gmp")
    body = form_values(nonce, phone="08-123 456 78", org_number="556016-0680")
    first = await signed_in.post_form("/console/requests/new", body)
    again = await signed_in.post_form("/console/requests/new", body)  # a double submit
    assert first.status == again.status == 303
    stored = signed_in.store.list()
    assert len(stored) == 1
    request = stored[0]
    # The reference carries the store clock's year, so it is read back, never written as a literal.
    assert first.headers["Location"] == again.headers["Location"] == f"/console/requests/{request.reference}"
    assert request.channel == "console" and request.entry_ids == ("vecura-gmp",)
    assert request.routed_contact == "contact-desk" and request.consent.notice_version == "2026-11"
    assert request.status is RequestStatus.NEW and request.conversation_id is None
    assert len(request.notes) == 1 and request.notes[0].author == "eva"
    assert "Eva Ek (eva) collected the company's consent" in request.notes[0].text
    # The same outbox as the assistant's requests: the routed contact and the advisors are notified.
    assert sorted(record.kind for record in signed_in.store.outbox.records(request.reference)) == ["email", "email"]
    page = await signed_in.client.get(first.headers["Location"])
    assert f"Support request {request.reference} is stored" in await page.text()


async def test_a_request_from_a_flagged_conversation_keeps_its_id(signed_in: ConsoleWorld) -> None:
    status, html, nonce = await new_form(signed_in, "?conversation=rasa-sender-42")
    assert status == 200 and 'name="conversation_id" value="rasa-sender-42"' in html
    response = await signed_in.post_form("/console/requests/new", form_values(
        nonce, conversation_id="rasa-sender-42", entry=[], offered=[]))
    assert response.status == 303
    request = signed_in.store.list()[0]
    assert request.conversation_id == "rasa-sender-42" and request.entry_ids == ()
    assert request.routed_contact == "contact-slt-advisors"  # nothing chosen: the advisors' desk


async def test_without_consent_nothing_is_stored_and_nothing_typed_is_lost(signed_in: ConsoleWorld) -> None:
    _, _, nonce = await new_form(signed_in)
    body = form_values(nonce, company_name="Bio <Kemi> AB", consent="")
    response = await signed_in.post_form("/console/requests/new", body)
    html = await response.text()
    assert response.status == 400 and 'id="error-consent"' in html
    assert 'value="Bio &lt;Kemi&gt; AB"' in html and ">GMP manufacturing of an AAV vector.</textarea>" in html
    assert f'name="nonce" value="{nonce}"' in html  # the retry is the same submission
    assert signed_in.store.list() == []


@pytest.mark.parametrize(("field", "value", "error_id"), [
    ("email", "not-an-email", "error-email"),
    ("company_name", "", "error-company_name"),
    ("org_number", "123", "error-org_number"),
    ("need_summary", "", "error-need_summary"),
    ("entry", "no-such-entry", "error-entry_ids"),
    ("entry", "Not An Id", "error-entry_ids"),
])
async def test_a_field_the_store_refuses_is_named(signed_in: ConsoleWorld, field: str, value: str,
                                                  error_id: str) -> None:
    _, _, nonce = await new_form(signed_in)
    response = await signed_in.post_form("/console/requests/new", form_values(nonce, **{field: value}))
    assert response.status == 400 and f'id="{error_id}"' in await response.text()
    assert signed_in.store.list() == []


async def test_a_form_without_its_nonce_is_refused(signed_in: ConsoleWorld) -> None:
    response = await signed_in.post_form("/console/requests/new", form_values("short"))
    assert response.status == 400 and signed_in.store.list() == []


async def test_bad_prefill_gets_400(signed_in: ConsoleWorld) -> None:
    status, html, _ = await new_form(signed_in, "?entries=" + ",".join(f"e{i}" for i in range(21)))
    assert status == 400 and "at most 20" in html


async def test_unknown_prefilled_entries_are_left_out_and_named(signed_in: ConsoleWorld) -> None:
    status, html, _ = await new_form(signed_in, "?entries=vecura-gmp,gone-entry")
    assert status == 200 and "gone-entry" in html and 'value="gone-entry"' not in html


# -- one request --------------------------------------------------------------------------------------------------


async def test_typed_markup_is_shown_as_text(signed_in: ConsoleWorld) -> None:
    _, _, nonce = await new_form(signed_in)
    evil = "<script>alert('x')</script>"
    response = await signed_in.post_form("/console/requests/new", form_values(
        nonce, company_name=f"Evil {evil} AB", need_summary=f"Need {evil}"))
    assert response.status == 303
    opened = response.headers["Location"]
    note = await signed_in.post_form(f"{opened}/notes", {"text": f"Note {evil}"})
    assert note.status == 303
    for path in (opened, "/console/requests"):
        html = await (await signed_in.client.get(path)).text()
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html, path


async def test_the_request_page_shows_details_entries_notes_and_history(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    signed_in.store.add_note(reference, actor="olle", text="Called them back.")
    html = await (await signed_in.client.get(f"/console/requests/{reference}")).text()
    for text in ("Acme Bio AB", "Anna Berg", "anna@acme.example", "Flow cytometry for immune cells.",
                 'href="/console/entries/flow-flemingsberg">Flow cytometry core</a>', "Called them back.",
                 "conv-1", 'id="history"', "company (web)", "Note 1 added"):
        assert text in html, text
    options = re.findall(r'<option value="(\w+)">', html.split('id="new-status"')[1].split("</select>")[0])
    assert options == ["assigned", "in_progress", "closed", "withdrawn"]  # only what the workflow allows


async def test_changing_the_status_is_recorded_in_the_history(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/status",
                                         {"status": "in_progress", "note": "Spoke to Anna."})
    assert response.status == 303 and response.headers["Location"] == f"/console/requests/{reference}"
    request = signed_in.store.get(reference)
    assert request.status is RequestStatus.IN_PROGRESS and request.notes[-1].text == "Spoke to Anna."
    assert (request.history[-2].field, request.history[-2].old_value, request.history[-2].new_value,
            request.history[-2].actor) == ("status", "new", "in_progress", "eva")
    html = await (await signed_in.client.get(response.headers["Location"])).text()
    assert "is now in progress" in html and "New → In progress" in html and "Eva Ek" in html


async def test_a_move_the_workflow_forbids_shows_the_stores_error(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/status",
                                         {"status": "connected", "note": "keep me"})
    html = await response.text()
    assert response.status == 409
    assert "cannot go from &#39;new&#39; to &#39;connected&#39;" in html and ">keep me</textarea>" in html
    assert signed_in.store.get(reference).status is RequestStatus.NEW


async def test_an_unknown_status_is_a_400(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/status", {"status": "done"})
    assert response.status == 400 and "unknown status" in await response.text()


async def test_a_final_request_offers_no_status_change(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    signed_in.store.set_status(reference, "withdrawn", actor="eva")
    html = await (await signed_in.client.get(f"/console/requests/{reference}")).text()
    assert 'id="status-form"' not in html and "is final" in html and 'id="assign-form"' not in html


async def test_assigning_an_advisor(signed_in: ConsoleWorld) -> None:
    signed_in.add_advisor("olle", "Olle Berg")
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/assign", {"advisor": "olle"})
    assert response.status == 303
    request = signed_in.store.get(reference)
    assert request.assignee == "olle" and request.status is RequestStatus.ASSIGNED
    html = await (await signed_in.client.get(f"/console/requests/{reference}")).text()
    assert '<dd id="request-assignee">Olle Berg</dd>' in html


async def test_assigning_someone_without_an_account_is_refused(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/assign", {"advisor": "mallory"})
    assert response.status == 400 and "active advisors" in await response.text()
    assert signed_in.store.get(reference).assignee is None


async def test_an_empty_note_is_refused(signed_in: ConsoleWorld) -> None:
    reference = seed(signed_in)
    response = await signed_in.post_form(f"/console/requests/{reference}/notes", {"text": "   "})
    assert response.status == 400 and "note: is required" in await response.text()


async def test_an_unknown_request_gets_404(signed_in: ConsoleWorld) -> None:
    assert (await signed_in.client.get("/console/requests/SLT-2026-9999")).status == 404
    assert (await signed_in.client.get("/console/requests/garbage")).status == 404
    response = await signed_in.post_form("/console/requests/SLT-2026-9999/notes", {"text": "hello"})
    assert response.status == 404


# -- the queue ----------------------------------------------------------------------------------------------------


async def test_the_queue_lists_newest_first(signed_in: ConsoleWorld) -> None:
    first, second = seed(signed_in, "First AB"), seed(signed_in, "Second AB")
    html = await (await signed_in.client.get("/console/requests")).text()
    assert html.index(second) < html.index(first) and "2 requests" in html


async def test_the_queue_filters_by_status_and_assignee(signed_in: ConsoleWorld) -> None:
    new, assigned, other = seed(signed_in, "New AB"), seed(signed_in, "Mine AB"), seed(signed_in, "Other AB")
    signed_in.store.assign(assigned, "eva", actor="eva")
    signed_in.store.assign(other, "olle", actor="eva")
    by_status = await (await signed_in.client.get("/console/requests?status=new")).text()
    assert new in by_status and assigned not in by_status
    mine = await (await signed_in.client.get("/console/requests?assignee=eva")).text()
    assert assigned in mine and new not in mine and other not in mine
    nobody = await (await signed_in.client.get("/console/requests?assignee=-")).text()
    assert new in nobody and assigned not in nobody and other not in nobody
    assert '<option value="olle">olle</option>' in nobody  # assignees without an account are offered too


async def test_the_queue_filters_by_creation_date(console_factory) -> None:
    world = await console_factory()
    world.add_advisor()
    clock = {"now": dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)}
    world.store.clock = lambda: clock["now"]
    march = seed(world, "March AB", consent=Consent(clock["now"], "2026-11"))
    clock["now"] = dt.datetime(2026, 5, 10, 23, 59, tzinfo=dt.timezone.utc)
    may = seed(world, "May AB", consent=Consent(clock["now"], "2026-11"))
    await world.sign_in()
    html = await (await world.client.get("/console/requests?created_from=2026-05-10&created_to=2026-05-10")).text()
    assert may in html and march not in html
    html = await (await world.client.get("/console/requests?created_to=2026-04-30")).text()
    assert march in html and may not in html


@pytest.mark.parametrize(("query", "words"), [
    ("status=done", "unknown status"),
    ("created_from=yesterday", "a date such as"),
    ("created_from=2026-05-02&created_to=2026-05-01", "comes before"),
    ("page=0", "between 1 and"),
])
async def test_bad_queue_filters_get_400(signed_in: ConsoleWorld, query: str, words: str) -> None:
    response = await signed_in.client.get(f"/console/requests?{query}")
    assert response.status == 400 and words in await response.text()
    csv_response = await signed_in.client.get(f"/console/requests.csv?{query}")
    assert csv_response.status == 400 and words in await csv_response.text()


async def test_the_queue_is_paginated(signed_in: ConsoleWorld, monkeypatch) -> None:
    monkeypatch.setattr("web.console.request_views.PAGE_SIZE", 2)
    references = [seed(signed_in, f"Company {i} AB") for i in range(5)]
    first = await (await signed_in.client.get("/console/requests?status=new")).text()
    assert references[4] in first and references[3] in first and references[2] not in first
    assert "Page 1 of 3" in first and 'href="/console/requests?status=new&amp;page=2"' in first
    last = await (await signed_in.client.get("/console/requests?status=new&page=3")).text()
    assert references[0] in last and references[1] not in last and 'rel="next"' not in last


# -- CSV ----------------------------------------------------------------------------------------------------------


async def test_csv_export_uses_the_cli_columns_and_neutralises_formulas(signed_in: ConsoleWorld) -> None:
    formula = seed(signed_in, "=HYPERLINK(\"http://evil.example\")", need_summary="+SUM(A1:A9)")
    seed(signed_in, "Plain AB")
    signed_in.store.set_status(formula, "withdrawn", actor="eva")
    response = await signed_in.client.get("/console/requests.csv?status=withdrawn")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="support-requests-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    from support_requests.projection import CSV_COLUMNS

    assert list(rows[0].keys()) == list(CSV_COLUMNS) and len(rows) == 1
    assert rows[0]["reference"] == formula and rows[0]["company_name"] == "'=HYPERLINK(\"http://evil.example\")"
    assert rows[0]["need_summary"] == "'+SUM(A1:A9)" and rows[0]["status"] == "withdrawn"


async def test_the_queue_links_to_the_csv_with_its_filters(signed_in: ConsoleWorld) -> None:
    html = await (await signed_in.client.get("/console/requests?status=new&assignee=eva")).text()
    assert 'href="/console/requests.csv?status=new&amp;assignee=eva"' in html
