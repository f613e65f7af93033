"""The console pages of this part: flagged conversations (``/console/flagged``, one transcript at
``/console/flagged/{conversation_id}``) and unmet demand (``/console/demand``).

Handlers only read the query, run the blocking work (databases, the model) in a worker thread, and render a
template extending ``console/base.html``; every page is for signed-in advisors
(:func:`web.console.auth.require_advisor`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from support_requests.conversations import (FlaggedConversation, FlaggedList, TrackerState, Transcript,
                                            requests_for, with_requests)
from support_requests.demand import DemandError, UnmetReason
from support_requests.errors import StoreUnavailableError
from web.console.auth import page_context, require_advisor
from web.insights.report import PERIOD_WEEKS, DemandQuery
from web.services import SERVICES_KEY

MAX_NEED_IN_LINK = 1000
"""A need handed to the new-request form is cut to this many characters (the form's own limit is larger)."""




@dataclass(frozen=True)
class FlaggedRow:
    """A row of the flagged list: the conversation, its transcript's path and the prefilled new-request link."""

    conversation: FlaggedConversation
    transcript: str
    new_request: str


def add_routes(app: web.Application) -> None:
    """Add the flagged-conversation and unmet-demand pages to ``app``."""
    app.router.add_get("/console/flagged", flagged_page, name="insights_flagged")
    app.router.add_get("/console/flagged/{conversation_id}", transcript_page, name="insights_transcript")
    app.router.add_get("/console/demand", demand_page, name="insights_demand")


@require_advisor
async def flagged_page(request: web.Request) -> web.Response:
    """The conversations flagged for a person, the most recently flagged first."""
    services = request.app[SERVICES_KEY]

    def load() -> tuple[FlaggedList, bool]:
        found = services.tracker.flagged()
        try:
            return FlaggedList(tuple(with_requests(found.conversations, services.store.engine)), found.state), True
        except StoreUnavailableError:
            return found, False

    found, requests_known = await asyncio.to_thread(load)
    rows = [FlaggedRow(c, transcript_path(c.conversation_id),
                       new_request_link(c.conversation_id, c.need or c.last_user_text)) for c in found.conversations]
    context = await page_context(request, rows=rows, state=found.state.value, requests_known=requests_known)
    return aiohttp_jinja2.render_template("insights/flagged.html", request, context)


@require_advisor
async def transcript_page(request: web.Request) -> web.Response:
    """One conversation's messages, with a button that opens a support request from it; 404 for an unknown id."""
    services = request.app[SERVICES_KEY]
    conversation_id = request.match_info["conversation_id"]

    def load() -> tuple[Transcript | None, TrackerState, list[str]]:
        transcript = services.tracker.transcript(conversation_id)
        if transcript is None:
            return None, services.tracker.state(), []
        try:
            references = requests_for(services.store.engine, [conversation_id]).get(conversation_id, [])
        except StoreUnavailableError:
            references = []
        return transcript, TrackerState.OK, references

    transcript, state, references = await asyncio.to_thread(load)
    if transcript is None:
        context = await page_context(request, conversation_id=conversation_id, state=state.value)
        return aiohttp_jinja2.render_template("insights/transcript_missing.html", request, context, status=404)
    context = await page_context(
        request, transcript=transcript, references=references,
        new_request=new_request_link(conversation_id, transcript.follow_up_need, transcript.shown_entries))
    return aiohttp_jinja2.render_template("insights/transcript.html", request, context)


@require_advisor
async def demand_page(request: web.Request) -> web.Response:
    """Unmet demand: filters (period, reason), the weekly chart, and the groups of similar needs.

    A filter value the page does not offer gets the page with a 400 status and the reason, and no data.
    """
    try:
        query = DemandQuery.parse(request.query)
    except DemandError as error:
        context = await page_context(request, report=None, error=str(error), unavailable=False,
                                     **_filter_choices(DemandQuery()))
        return aiohttp_jinja2.render_template("insights/demand.html", request, context, status=400)
    services = request.app[SERVICES_KEY]
    try:
        report = await asyncio.to_thread(services.demand.report, query)
    except StoreUnavailableError:
        context = await page_context(request, report=None, error=None, unavailable=True, **_filter_choices(query))
        return aiohttp_jinja2.render_template("insights/demand.html", request, context, status=503)
    context = await page_context(request, report=report, error=None, unavailable=False, **_filter_choices(query))
    return aiohttp_jinja2.render_template("insights/demand.html", request, context)


def transcript_path(conversation_id: str) -> str:
    """The path of a conversation's transcript page (the id percent-encoded, slashes included)."""
    return "/console/flagged/" + quote(conversation_id, safe="")


def new_request_link(conversation_id: str, need: str, entries: tuple[str, ...] = ()) -> str:
    """The console's new-request form, prefilled from a conversation.

    Args:
        conversation_id: Rasa's sender id (the request remembers it).
        need: the need to start the summary with (cut to :data:`MAX_NEED_IN_LINK` characters).
        entries: catalogue entries to offer, such as the ones the assistant showed last.

    Returns:
        ``/console/requests/new?conversation=...&need=...[&entries=a,b]``, every value URL-encoded.
    """
    params = {"conversation": conversation_id, "need": " ".join(need.split())[:MAX_NEED_IN_LINK]}
    if entries:
        params["entries"] = ",".join(entries)
    return "/console/requests/new?" + urlencode(params)


def _filter_choices(query: DemandQuery) -> dict[str, object]:
    return {"periods": PERIOD_WEEKS, "reasons": [r.value for r in UnmetReason],
            "chosen_period": query.weeks, "chosen_reason": query.reason.value if query.reason else "all"}
