"""Intake search: the page an advisor types call notes into, its live JSON search, and the entry pages."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import aiohttp_jinja2
from aiohttp import web

from index.catalogue import EntryType, Site
from index.engine import Hit, SearchFilters, SearchMode
from index.errors import QueryError
from index.routing import contact_for
from web.services import SERVICES_KEY, SETTINGS_KEY
from web import metrics
from web.api.serialise import contact_details_json, hit_json
from web.console.auth import page_context, require_advisor
from web.console.forms import FormError, parse_search_params

log = logging.getLogger(__name__)

SITE_CHOICES = ((Site.FLEMINGSBERG.value, Site.FLEMINGSBERG.label), (Site.HAGASTADEN.value, Site.HAGASTADEN.label),
                (Site.ELSEWHERE.value, Site.ELSEWHERE.label))
TYPE_CHOICES = ((EntryType.FACILITY.value, "Facility"), (EntryType.EXPERT.value, "Expert"),
                (EntryType.PROGRAMME.value, "Programme"))


def add_routes(app: web.Application) -> None:
    """Register ``/console/``, ``/console/search.json`` and ``/console/entries/{entry_id}``."""
    app.router.add_get("/console/", intake_page, name="console_home")
    app.router.add_get("/console/search.json", search_json, name="console_search")
    app.router.add_get("/console/entries/{entry_id}", entry_page, name="console_entry")


@require_advisor
async def intake_page(request: web.Request) -> web.Response:
    """The programme's goal (companies reached against the target), the requests waiting too long, the notes
    box, the type and site filters, and the (script-filled) list of matches."""
    # the insights pages build on the console, not the reverse
    from web.insights.outcome_views import home_goal, home_waiting

    settings = request.app[SETTINGS_KEY]
    (goal, goal_chart), waiting = await asyncio.gather(home_goal(request), home_waiting(request))
    context = await page_context(request, type_choices=TYPE_CHOICES, site_choices=SITE_CHOICES,
                                 max_query_chars=settings.max_query_chars, goal=goal, goal_chart=goal_chart,
                                 waiting=waiting)
    return aiohttp_jinja2.render_template("console/search.html", request, context)


@require_advisor
async def search_json(request: web.Request) -> web.Response:
    """Ranked matches for ``q`` with the ``type`` and ``site`` filters, as JSON.

    Notes that hold several needs are searched need by need (:meth:`index.engine.SearchEngine.search_parts`).

    Returns:
        200 ``{"query": q, "hits": [...], "parts": [{"need", "topic", "hits"}]}``: ``parts`` has one entry per
        need (one for a single need), ``hits`` all of their hits in order; each hit as
        :meth:`index.engine.Hit.to_dict` plus ``entry_url`` (its console page) and ``contact_details`` (the
        routed contact's name, role and mailbox, or null). 400 ``{"error": message, "field": name}`` for a query
        that cannot be searched.
    """
    settings = request.app[SETTINGS_KEY]
    try:
        params = parse_search_params(request.query, settings.max_query_chars)
    except FormError as error:
        return _json_error(error.reason, error.field)
    engine = request.app[SERVICES_KEY].engine
    filters = SearchFilters(types=params.types, sites=params.sites)
    try:
        parts = await asyncio.to_thread(partial(engine.search_parts, params.query, top=params.top, filters=filters,
                                                mode=SearchMode.HYBRID))
    except QueryError as error:
        return _json_error(str(error), "q")
    hits = [hit for part in parts for hit in part.hits]
    metrics.observe_search(request.app, "console", hits)
    return web.json_response({
        "query": params.query,
        "hits": [_hit_json(hit, engine.entry) for hit in hits],
        "parts": [{"need": part.need.text, "topic": part.need.topic,
                   "hits": [_hit_json(hit, engine.entry) for hit in part.hits]} for part in parts],
    })


@require_advisor
async def entry_page(request: web.Request) -> web.Response:
    """One catalogue entry in full, with the contact a request about it is routed to."""
    engine = request.app[SERVICES_KEY].engine
    entry = engine.entry(request.match_info["entry_id"])
    if entry is None:
        context = await page_context(request, entry_id=request.match_info["entry_id"][:100])
        return aiohttp_jinja2.render_template("console/entry_missing.html", request, context, status=404)
    contact = contact_for(entry, engine.entry)
    context = await page_context(request, entry=entry, contact=contact, site_label=entry.site.label,
                                 link=safe_link(entry.url),
                                 contact_link=safe_link(contact.url) if contact is not None else None)
    return aiohttp_jinja2.render_template("console/entry.html", request, context)


def safe_link(url: str) -> str | None:
    """``url`` when it is an http:// or https:// address (so it may be a link), else None (shown as text)."""
    value = (url or "").strip()
    return value if value.lower().startswith(("http://", "https://")) and " " not in value else None


def _hit_json(hit: Hit, lookup) -> dict[str, object]:
    """The hit's one JSON shape, with the page of its entry and its contact's details."""
    return {**hit_json(hit), "entry_url": f"/console/entries/{hit.entry.id}",
            "contact_details": contact_details_json(contact_for(hit.entry, lookup))}


def _json_error(message: str, field: str) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=400)
