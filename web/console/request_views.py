"""Support requests in the console: the queue with its filters, the CSV export, and one request (status,
assignment, notes).

Every change is a POST carrying the session's CSRF token, answered with a redirect (303) to the request's page;
a change the store refuses re-renders the page with the store's message and a 4xx status, keeping what the
advisor typed. New requests: :mod:`web.console.new_request_views`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from collections.abc import Mapping, Sequence

import aiohttp_jinja2
from aiohttp import web

from web.services import SERVICES_KEY
from support_requests.projection import csv_row, write_csv
from support_requests.errors import (
    InvalidTransitionError,
    RequestNotFoundError,
    RequestValidationError,
    StoreUnavailableError,
    SupportRequestError,
)
from support_requests.model import RequestStatus, SupportRequest
from support_requests.outcomes import local_day
from support_requests.queue import QueuePage, QueueQuery, RequestQueue
from support_requests.response_times import WAITING_STATUSES, waiting_cutoff
from support_requests.working_days import working_days_after
from support_requests.workflow import allowed_next
from web.console.auth import check_csrf, current_advisor, flash, page_context, require_advisor
from web.console.forms import PAGE_SIZE, UNASSIGNED, FormError, QueueFilters, parse_queue_filters
from web.console.view_helpers import all_advisors, display_names, error_page, form_text, signed_in_advisor

log = logging.getLogger(__name__)


def add_routes(app: web.Application) -> None:
    """Register the queue, the CSV export and one request's page and forms."""
    app.router.add_get("/console/requests", queue_page, name="console_requests")
    app.router.add_get("/console/requests.csv", queue_csv, name="console_requests_csv")
    app.router.add_get("/console/requests/{reference}", request_page, name="console_request")
    app.router.add_post("/console/requests/{reference}/status", change_status)
    app.router.add_post("/console/requests/{reference}/assign", assign)
    app.router.add_post("/console/requests/{reference}/notes", add_note)


# -- the queue ------------------------------------------------------------------------------------------------


@require_advisor
async def queue_page(request: web.Request) -> web.Response:
    """Requests matching the filters, newest first, :data:`PAGE_SIZE` to a page, counted and cut in the database
    (:class:`~support_requests.queue.RequestQueue`), so a page costs the same on a long history."""
    try:
        filters = parse_queue_filters(request.query)
    except FormError as error:
        return await _render_queue(request, QueueFilters(), None, error=error, status=400)
    queue = RequestQueue(request.app[SERVICES_KEY].store.engine)
    try:
        found = await asyncio.to_thread(queue.page, _queue_query(request, filters), filters.page, PAGE_SIZE)
    except StoreUnavailableError as error:
        return await error_page(request, 503, "The request database cannot be reached", str(error))
    return await _render_queue(request, filters, found)


@require_advisor
async def queue_csv(request: web.Request) -> web.Response:
    """The requests matching the queue's filters (every page) as CSV, with the columns and the
    spreadsheet-formula guard of ``navigator requests export``. It holds personal data: never cached."""
    try:
        filters = parse_queue_filters(request.query)
    except FormError as error:
        return web.Response(status=400, text=f"The CSV export was not made: {error.field}: {error.reason}")
    queue = RequestQueue(request.app[SERVICES_KEY].store.engine)
    try:
        found = await asyncio.to_thread(queue.all, _queue_query(request, filters))
    except StoreUnavailableError as error:
        return web.Response(status=503, text=f"The request database cannot be reached: {error}")
    out = io.StringIO()
    write_csv(out, [csv_row(item) for item in found])
    advisor = await current_advisor(request)
    log.info("console: %s exported %d request(s) as CSV", advisor.username if advisor else "?", len(found))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M")
    return web.Response(body=out.getvalue().encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="support-requests-{stamp}.csv"'})


def _queue_query(request: web.Request, filters: QueueFilters) -> QueueQuery:
    """The store's query for the queue's filters. Waiting too long is a status (new or assigned) and a creation
    time before the cut-off of the working days (:func:`~support_requests.response_times.waiting_cutoff`)."""
    statuses = [filters.status] if filters.status is not None else None
    created_before = filters.created_to_time
    if filters.waiting:
        statuses = [s for s in (statuses or WAITING_STATUSES) if s in WAITING_STATUSES]
        outcomes = request.app[SERVICES_KEY].outcomes
        cutoff = waiting_cutoff(outcomes.clock(), outcomes.waiting_working_days)
        created_before = cutoff if created_before is None else min(created_before, cutoff)
    return QueueQuery(statuses=statuses, assignee=None if filters.assignee == UNASSIGNED else filters.assignee,
                      unassigned=filters.assignee == UNASSIGNED, created_from=filters.created_from_time,
                      created_before=created_before)


def _waiting_days(request: web.Request, requests: Sequence[SupportRequest]) -> dict[str, int]:
    """The working days waited by each of ``requests`` waiting too long (new or assigned after more than the
    threshold), by reference; the others are left out."""
    outcomes = request.app[SERVICES_KEY].outcomes
    today = local_day(outcomes.clock())
    days = {item.reference: working_days_after(local_day(item.created_at), today)
            for item in requests if item.status in WAITING_STATUSES}
    return {reference: count for reference, count in days.items() if count > outcomes.waiting_working_days}


async def _render_queue(request: web.Request, filters: QueueFilters, found: QueuePage | None, *,
                        error: FormError | None = None, status: int = 200) -> web.Response:
    found = found or QueuePage(requests=(), total=0, page=1, pages=1, assignees=())
    page, pages, shown = found.page, found.pages, list(found.requests)
    advisors = await all_advisors(request)
    assignees = sorted({advisor.username for advisor in advisors if advisor.active} | set(found.assignees)
                       | ({filters.assignee} if filters.assignee and filters.assignee != UNASSIGNED else set()))
    context = await page_context(
        request, filters=filters, requests=shown, total=found.total, page=page, pages=pages,
        waiting=_waiting_days(request, shown), waiting_threshold=request.app[SERVICES_KEY].outcomes.waiting_working_days,
        statuses=[status_item.value for status_item in RequestStatus], assignees=assignees,
        names=display_names(advisors), unassigned=UNASSIGNED, error=error,
        csv_query=filters.query_string(),
        previous_query=filters.query_string(page=page - 1) if page > 1 else None,
        next_query=filters.query_string(page=page + 1) if page < pages else None)
    return aiohttp_jinja2.render_template("console/requests.html", request, context, status=status)


# -- one request ----------------------------------------------------------------------------------------------


@require_advisor
async def request_page(request: web.Request) -> web.Response:
    """Everything about one request: details, chosen entries, notifications, the company's follow-up answer,
    notes, history, and the forms."""
    return await _show_request(request)


@require_advisor
async def change_status(request: web.Request) -> web.StreamResponse:
    """Move the request to the posted ``status`` (with an optional ``note``), if the workflow allows it."""
    form = await request.post()
    await check_csrf(request, form)
    advisor = await signed_in_advisor(request)
    wanted, note = form_text(form, "status"), form_text(form, "note")
    store = request.app[SERVICES_KEY].store
    try:
        updated = await asyncio.to_thread(store.set_status, request.match_info["reference"], wanted,
                                  actor=advisor.username, note=note or None)
    except SupportRequestError as error:
        return await _show_request(request, error=error, values={"status_note": note})
    await flash(request, f"{updated.reference} is now {updated.status.value.replace('_', ' ')}.")
    raise web.HTTPSeeOther(f"/console/requests/{updated.reference}")


@require_advisor
async def assign(request: web.Request) -> web.StreamResponse:
    """Make the posted ``advisor`` (an active account's username) responsible for the request."""
    form = await request.post()
    await check_csrf(request, form)
    advisor = await signed_in_advisor(request)
    chosen = form_text(form, "advisor").strip()
    known = {item.username for item in await all_advisors(request) if item.active}
    if chosen not in known:
        error = RequestValidationError("advisor", "choose one of the console's active advisors")
        return await _show_request(request, error=error)
    store = request.app[SERVICES_KEY].store
    try:
        updated = await asyncio.to_thread(store.assign, request.match_info["reference"], chosen, actor=advisor.username)
    except SupportRequestError as error:
        return await _show_request(request, error=error)
    await flash(request, f"{updated.reference} is assigned to {chosen}.")
    raise web.HTTPSeeOther(f"/console/requests/{updated.reference}")


@require_advisor
async def add_note(request: web.Request) -> web.StreamResponse:
    """Add the posted ``text`` as an internal note."""
    form = await request.post()
    await check_csrf(request, form)
    advisor = await signed_in_advisor(request)
    text = form_text(form, "text")
    store = request.app[SERVICES_KEY].store
    try:
        updated = await asyncio.to_thread(store.add_note, request.match_info["reference"], actor=advisor.username, text=text)
    except SupportRequestError as error:
        return await _show_request(request, error=error, values={"note_text": text})
    await flash(request, f"Note {len(updated.notes)} added to {updated.reference}.")
    raise web.HTTPSeeOther(f"/console/requests/{updated.reference}")


async def _show_request(request: web.Request, *, error: SupportRequestError | None = None,
                        values: Mapping[str, str] | None = None) -> web.Response:
    store = request.app[SERVICES_KEY].store
    engine = request.app[SERVICES_KEY].engine
    reference = request.match_info["reference"]
    try:
        item = await asyncio.to_thread(store.get, reference)
        notifications = await asyncio.to_thread(store.outbox.records, item.reference)
        follow_up = await asyncio.to_thread(request.app[SERVICES_KEY].outcomes.satisfaction.for_request,
                                            item.reference)
    except RequestNotFoundError as missing:
        context = await page_context(request, reference=missing.reference)
        return aiohttp_jinja2.render_template("console/request_missing.html", request, context, status=404)
    except StoreUnavailableError as unavailable:
        return await error_page(request, 503, "The request database cannot be reached", str(unavailable))
    advisors = await all_advisors(request)
    context = await page_context(
        request, item=item, entries=[(entry_id, engine.entry(entry_id)) for entry_id in item.entry_ids],
        routed=engine.entry(item.routed_contact), allowed=[status.value for status in allowed_next(item.status)],
        advisors=[advisor for advisor in advisors if advisor.active], names=display_names(advisors),
        notifications=notifications, follow_up=follow_up, error=str(error) if error else None,
        values={"status_note": "", "note_text": "", **(values or {})})
    return aiohttp_jinja2.render_template("console/request.html", request, context, status=_status_of(error))


def _status_of(error: SupportRequestError | None) -> int:
    if error is None:
        return 200
    if isinstance(error, InvalidTransitionError):
        return 409
    if isinstance(error, StoreUnavailableError):
        return 503
    return 400
