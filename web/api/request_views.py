"""``/api/requests``: support requests for machine clients with the ``advisor`` role.

Every change goes through :class:`~support_requests.store.RequestStore`, which validates values and
enforces the workflow; the actor recorded is ``token:<name>``. The store is synchronous, so its calls
run in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from index.catalogue import EntryType
from index.engine import SearchEngine
from index.routing import Route, route_request
from support_requests.model import Consent, RequestDraft, RequestStatus, SupportRequest
from support_requests.store import RequestStore
from support_requests.validation import (
    MAX_CONVERSATION_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_NOTICE_VERSION_CHARS,
    MAX_SUMMARY_CHARS,
)
from support_requests.workflow import check_transition, status_after_assignment
from support_requests.tokens import TokenRole
from web.api import params
from web.api.auth import requires, token_of
from web.api.errors import ApiError
from web.api.serialise import request_json, request_summary_json
from web.services import SERVICES_KEY, SETTINGS_KEY

CHANNEL = "api"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_IDEMPOTENCY_KEY_CHARS = 100
MAX_PHONE_CHARS = 40
CREATE_FIELDS = ("company_name", "contact_person", "email", "phone", "org_number", "need_summary", "entry_ids",
                 "routed_contact", "conversation_id", "consent")
REQUIRED_CREATE_FIELDS = ("company_name", "contact_person", "email", "need_summary", "consent")
UPDATE_FIELDS = ("status", "assignee", "note")


def _store(request: web.Request) -> RequestStore:
    return request.app[SERVICES_KEY].store


def _engine(request: web.Request) -> SearchEngine:
    return request.app[SERVICES_KEY].engine


@requires(TokenRole.ADVISOR)
async def list_requests(request: web.Request) -> web.Response:
    """Requests, oldest first, filtered by ``status``, ``assignee`` and creation dates, a page at a time."""
    query = request.rel_url.query
    params.check_known(query, ("status", "assignee", "created_from", "created_to", "limit", "offset"))
    status_text = params.enum_value(query, "status", (s.value for s in RequestStatus))
    status = RequestStatus(status_text) if status_text is not None else None
    assignee = (params.single(query, "assignee") or "").strip() or None
    if assignee is not None and not (params.matches(params.LINE_OR_BLANK, assignee)
                                     and len(assignee) <= MAX_NAME_CHARS):
        raise ApiError(400, f"assignee must be an advisor's name: one line of at most {MAX_NAME_CHARS} characters, "
                            "without control characters")
    # A range that ends before it starts is not an error: no request lies in it.
    created_from = params.point_in_time(query, "created_from")
    created_to = params.point_in_time(query, "created_to", end_of_day=True)
    limit = params.integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = params.integer(query, "offset", 0, 0)
    found = await asyncio.to_thread(_store(request).list, status=status, assignee=assignee,
                                    created_from=created_from, created_to=created_to)
    page = found[offset:offset + limit]
    return web.json_response({"total": len(found), "limit": limit, "offset": offset,
                              "requests": [request_summary_json(item) for item in page]})


@requires(TokenRole.ADVISOR)
async def get_request(request: web.Request) -> web.Response:
    """Everything about one request, notes and history included."""
    params.check_known(request.rel_url.query, ())
    found = await asyncio.to_thread(_store(request).get, request.match_info["reference"])
    return web.json_response(request_json(found))


@requires(TokenRole.ADVISOR)
async def create_request(request: web.Request) -> web.Response:
    """Store a request on a company's behalf (channel ``api``); a repeated ``Idempotency-Key`` returns it again.

    Returns:
        201 with the new request and its ``Location``, or 200 with the request an earlier call with the
        same key stored.
    """
    params.check_known(request.rel_url.query, ())
    token = token_of(request)
    client_key = _idempotency_key(request)
    body = await params.read_json_object(request)
    draft = _draft(body, _engine(request), request.app[SETTINGS_KEY].advisors_email)
    # Keys are per client: two clients' keys never collide, nor with the assistant's own keys.
    key = f"api:{token.name}:{client_key}"
    stored, created = await asyncio.to_thread(_store(request).submit, draft, key)
    if not created:
        return web.json_response(request_json(stored), status=200)
    return web.json_response(request_json(stored), status=201,
                             headers={"Location": f"/api/requests/{stored.reference}"})


@requires(TokenRole.ADVISOR)
async def update_request(request: web.Request) -> web.Response:
    """Change a request's ``status`` or ``assignee`` and/or add a ``note``, as the workflow allows."""
    params.check_known(request.rel_url.query, ())
    body = await params.read_json_object(request)
    unknown = [name for name in body if name not in UPDATE_FIELDS]
    if unknown:
        raise ApiError(422, f"unknown field '{params.shown(unknown[0])}'; accepted: {', '.join(UPDATE_FIELDS)}",
                       field=params.shown(unknown[0]))
    if not body:
        raise ApiError(422, "give at least one of: status, assignee, note")
    # null is refused rather than read as "no change": for the assignee it could as well mean "unassign".
    status = _field_status(body["status"]) if "status" in body else None
    assignee = params.body_text(body, "assignee", MAX_NAME_CHARS) if "assignee" in body else None
    note = params.body_text(body, "note", MAX_NOTE_CHARS, pattern=params.TEXT) if "note" in body else None
    updated = await asyncio.to_thread(_apply, _store(request), request.match_info["reference"],
                                      token_of(request).actor, status, assignee, note)
    return web.json_response(request_json(updated))


# -- helpers -------------------------------------------------------------------------------------------------


def _idempotency_key(request: web.Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key.strip():
        raise ApiError(400, "send an 'Idempotency-Key' header: a value unique to this submission (such as a UUID); "
                            "a retry with the same key returns the request already stored")
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not params.matches(params.IDEMPOTENCY_KEY, key):
        raise ApiError(400, f"the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable "
                            "ASCII characters")
    return key.strip()


def _draft(body: dict[str, Any], engine: SearchEngine, advisors_email: str) -> RequestDraft:
    """The draft the body describes, routed as the assistant routes: to the first chosen entry's contact.

    Raises:
        ApiError: 422 naming the field for an unknown or missing field, an unknown entry, or bad consent.
    """
    for name in body:
        if name not in CREATE_FIELDS:
            raise ApiError(422, f"unknown field '{params.shown(name)}'; accepted: {', '.join(CREATE_FIELDS)}",
                           field=params.shown(name))
    for name in REQUIRED_CREATE_FIELDS:
        if body.get(name) is None:
            raise ApiError(422, f"{name}: is required", field=name)
    _check_fields(body)
    entry_ids = body.get("entry_ids", [])
    if not isinstance(entry_ids, list):
        raise ApiError(422, "entry_ids: must be a list of entry ids such as [\"vecura-gmp\"]", field="entry_ids")
    for entry_id in entry_ids:
        if isinstance(entry_id, str) and engine.entry(entry_id) is None:
            raise ApiError(422, f"entry_ids: no catalogue entry with id '{params.shown(entry_id)}'",
                           field="entry_ids")
    route = _routing(body.get("routed_contact"), entry_ids, engine, advisors_email)
    return RequestDraft(
        company_name=body["company_name"], contact_person=body["contact_person"], email=body["email"],
        phone=body.get("phone"), org_number=body.get("org_number"), need_summary=body["need_summary"],
        entry_ids=entry_ids, routed_contact=route.contact_id, routed_contact_email=route.email, channel=CHANNEL,
        conversation_id=body.get("conversation_id"), consent=_consent(body["consent"]),
    )


def _check_fields(body: dict[str, Any]) -> None:
    """Refuse what the document's ``NewRequest`` schema forbids, as sent; the store then normalises and checks
    what a schema cannot say (the email's syntax, the organisation number's check digit).

    Raises:
        ApiError: 422 naming the field.
    """
    params.body_text(body, "company_name", MAX_NAME_CHARS)
    params.body_text(body, "contact_person", MAX_NAME_CHARS)
    if not params.is_email(body["email"]):
        raise ApiError(422, "email: is not a valid email address (like name@company.se)", field="email")
    params.body_text(body, "need_summary", MAX_SUMMARY_CHARS, pattern=params.TEXT)
    params.body_text(body, "conversation_id", MAX_CONVERSATION_ID_CHARS, pattern=params.LINE_OR_BLANK,
                     required=False)
    phone = body.get("phone")
    if phone is not None and not (isinstance(phone, str) and len(phone) <= MAX_PHONE_CHARS
                                  and params.matches(params.PHONE, phone)):
        raise ApiError(422, f"phone: may hold only digits, spaces, '-', parentheses and a leading '+', with 6 to 20 "
                            f"digits and at most {MAX_PHONE_CHARS} characters (or be empty or null)", field="phone")
    org_number = body.get("org_number")
    if org_number is not None and not (isinstance(org_number, str) and params.matches(params.ORG_NUMBER, org_number)):
        raise ApiError(422, "org_number: must be 10 digits as NNNNNN-NNNN (or 12 digits starting with 16), or be "
                            "empty or null", field="org_number")
    if "entry_ids" in body and body["entry_ids"] is None:
        raise ApiError(422, "entry_ids: must be a list of entry ids such as [\"vecura-gmp\"] (or be left out)",
                       field="entry_ids")
    version = body["consent"].get("notice_version") if isinstance(body["consent"], dict) else None
    if isinstance(version, str) and not (len(version) <= MAX_NOTICE_VERSION_CHARS
                                         and params.matches(params.LINE, version)):
        raise ApiError(422, f"consent: notice_version must be 1 to {MAX_NOTICE_VERSION_CHARS} characters on one "
                            "line", field="consent")


def _routing(given: object, entry_ids: list[Any], engine: SearchEngine, advisors_email: str) -> Route:
    """Where a new request goes: the contact the client names, else the routing every channel uses
    (:func:`index.routing.route_request`)."""
    if given is None:
        return route_request([e for e in entry_ids if isinstance(e, str)], engine.entry, advisors_email)
    contact = engine.entry(given) if isinstance(given, str) else None
    if contact is None or contact.type is not EntryType.EXPERT or not contact.email:
        raise ApiError(422, "routed_contact: must be the id of a contact (expert) entry of the catalogue "
                            "that has an email", field="routed_contact")
    return Route(contact.id, contact.email)


def _consent(value: object) -> Consent:
    if not isinstance(value, dict) or set(value) - {"given_at", "notice_version"}:
        raise ApiError(422, "consent: must be an object with given_at (ISO date and time with offset) and "
                            "notice_version", field="consent")
    given_at, version = value.get("given_at"), value.get("notice_version")
    if not isinstance(given_at, str) or not isinstance(version, str):
        raise ApiError(422, "consent: given_at and notice_version are required, as text", field="consent")
    if (match := params.DATE_TIME.fullmatch(given_at)) is not None and match.group(6) is None:
        raise ApiError(422, "consent: given_at needs a UTC offset (such as Z or +01:00)", field="consent")
    moment = params.date_time(given_at)
    if moment is None:
        raise ApiError(422, "consent: given_at must be an ISO date and time such as 2026-11-30T09:00:00+01:00",
                       field="consent")
    if not re.match(params.CONSENT_YEAR, given_at):
        raise ApiError(422, "consent: given_at must lie between the year 2000 and now", field="consent")
    return Consent(given_at=moment, notice_version=version)


def _field_status(value: object) -> RequestStatus:
    try:
        return RequestStatus(value)
    except ValueError:
        accepted = ", ".join(s.value for s in RequestStatus)
        shown = f"'{params.shown(value)}'" if isinstance(value, str) else json.dumps(value)[:60]
        raise ApiError(422, f"status: unknown status {shown}; use one of: {accepted}", field="status") from None


def _apply(store: RequestStore, reference: str, actor: str, status: RequestStatus | None, assignee: str | None,
           note: str | None) -> SupportRequest:
    """Check the whole change against the workflow first, then apply it through the store.

    Checking first means a refused status change does not leave an assignment behind.
    """
    current = store.get(reference)
    after = status_after_assignment(current.reference, current.status) if assignee is not None else current.status
    if status is not None and not (assignee is not None and status is after):
        check_transition(current.reference, after, status)
    result = current
    if assignee is not None:
        result = store.assign(current.reference, assignee, actor=actor)
    if status is not None and status is not result.status:
        result = store.set_status(current.reference, status, actor=actor, note=note)
        note = None
    if note:
        result = store.add_note(current.reference, actor=actor, text=note)
    return result
