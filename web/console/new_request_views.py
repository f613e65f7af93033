"""Opening a support request on a company's behalf: the form (prefilled from the intake search or a flagged
conversation) and its submission.

The request goes into the same store as the assistant's (channel ``console``), so it gets the same references,
notifications (outbox) and history. The form carries a one-time nonce that makes the idempotency key: posting
the same form twice stores one request. The advisor must confirm the company's consent, and a note records who
collected it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from index.routing import route_request
from web.services import SERVICES_KEY, SETTINGS_KEY
from support_requests.errors import RequestValidationError, StoreUnavailableError
from support_requests.model import Consent, RequestDraft
from web.console.auth import check_csrf, flash, page_context, require_advisor
from web.console.forms import FormError, check_nonce, parse_entry_ids, parse_prefill
from web.console.view_helpers import error_page, form_text, signed_in_advisor

log = logging.getLogger(__name__)

CREATE_LOCK_KEY = web.AppKey("console_create_lock", asyncio.Lock)
CONSENT_NOTE_MARKER = "Consent recorded in the console"
"""How the note recording who collected the company's consent begins (it is added once per request)."""


def add_routes(app: web.Application) -> None:
    """Register ``/console/requests/new`` (GET and POST); call it before the routes of
    ``/console/requests/{reference}``, which would otherwise take ``new`` for a reference."""
    app[CREATE_LOCK_KEY] = asyncio.Lock()
    app.router.add_get("/console/requests/new", new_request_page, name="console_new_request")
    app.router.add_post("/console/requests/new", new_request_submit)


@require_advisor
async def new_request_page(request: web.Request) -> web.Response:
    """The form to open a request on a company's behalf, prefilled from the intake search
    (``entries``, ``need``) or a flagged conversation (``conversation``)."""
    try:
        prefill = parse_prefill(request.query)
    except FormError as error:
        return await error_page(request, 400, "The new-request form cannot be opened", error.reason)
    engine = request.app[SERVICES_KEY].engine
    unknown = [entry_id for entry_id in prefill.entry_ids if engine.entry(entry_id) is None]
    values = {"company_name": "", "contact_person": "", "email": "", "phone": "", "org_number": "",
              "need_summary": prefill.need, "conversation_id": prefill.conversation_id or ""}
    chosen = [entry_id for entry_id in prefill.entry_ids if entry_id not in unknown]
    errors = {"entry_ids": "these entries are no longer in the catalogue and were left out: " + ", ".join(unknown)} \
        if unknown else {}
    return await _render_new(request, values=values, offered=chosen, chosen=chosen, errors=errors,
                             nonce=secrets.token_urlsafe(24), consent=False, status=200)


@require_advisor
async def new_request_submit(request: web.Request) -> web.StreamResponse:
    """Store the request (once per form, however often it is posted) and go to its page (303)."""
    form = await request.post()
    await check_csrf(request, form)
    advisor = await signed_in_advisor(request)
    settings = request.app[SETTINGS_KEY]
    engine = request.app[SERVICES_KEY].engine
    store = request.app[SERVICES_KEY].store
    values = {name: form_text(form, name) for name in (
        "company_name", "contact_person", "email", "phone", "org_number", "need_summary", "conversation_id")}
    offered = [value for value in form.getall("offered", []) if isinstance(value, str)]
    picked = [value for value in form.getall("entry", []) if isinstance(value, str)]
    consent = form.get("consent") == "yes"
    nonce = form_text(form, "nonce")

    def again(errors: dict[str, str], status: int = 400) -> Any:
        return _render_new(request, values=values, offered=[o for o in offered if engine.entry(o) is not None],
                           chosen=picked, errors=errors, nonce=nonce, consent=consent, status=status)

    try:
        check_nonce(nonce)
        entry_ids = parse_entry_ids(picked)
    except FormError as error:
        return await again({"entry_ids" if error.field == "entries" else error.field: error.reason})
    unknown = [entry_id for entry_id in entry_ids if engine.entry(entry_id) is None]
    if unknown:
        return await again({"entry_ids": "not in the catalogue: " + ", ".join(unknown)})
    if not consent:
        return await again({"consent": "confirm that the company agreed to Navigator storing these contact details"})
    route = route_request(entry_ids, engine.entry, settings.advisors_email)
    draft = RequestDraft(
        company_name=values["company_name"], contact_person=values["contact_person"], email=values["email"],
        phone=values["phone"].strip() or None, org_number=values["org_number"].strip() or None,
        need_summary=values["need_summary"], entry_ids=entry_ids, routed_contact=route.contact_id,
        routed_contact_email=route.email, channel="console",
        conversation_id=values["conversation_id"].strip() or None,
        consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version=settings.privacy_notice_version))
    try:
        async with request.app[CREATE_LOCK_KEY]:
            created = await asyncio.to_thread(store.create, draft, f"console:{advisor.username}:{nonce}")
            if not any(note.text.startswith(CONSENT_NOTE_MARKER) for note in created.notes):
                note = (f"{CONSENT_NOTE_MARKER}: {advisor.display_name} ({advisor.username}) collected the "
                        f"company's consent to storing its contact details (privacy notice "
                        f"{settings.privacy_notice_version}).")
                created = await asyncio.to_thread(store.add_note, created.reference, actor=advisor.username, text=note)
    except RequestValidationError as error:
        return await again({error.field: error.reason})
    except StoreUnavailableError as error:
        return await again({"form": f"nothing was saved: {error}"}, status=503)
    log.info("console: %s opened support request %s", advisor.username, created.reference)
    await flash(request, f"Support request {created.reference} is stored; the contact and the advisors are notified.")
    raise web.HTTPSeeOther(f"/console/requests/{created.reference}")


async def _render_new(request: web.Request, *, values: Mapping[str, str], offered: list[str], chosen: list[str],
                      errors: Mapping[str, str], nonce: str, consent: bool, status: int) -> web.Response:
    engine = request.app[SERVICES_KEY].engine
    settings = request.app[SETTINGS_KEY]
    context = await page_context(
        request, values=values, entries=[engine.entry(entry_id) for entry_id in offered],
        chosen=set(chosen), errors=errors, nonce=nonce, consent=consent,
        notice_version=settings.privacy_notice_version)
    return aiohttp_jinja2.render_template("console/request_new.html", request, context, status=status)
