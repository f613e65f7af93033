"""``/api/search`` and ``/api/entries``: searching and reading the catalogue (role ``reader``)."""

from __future__ import annotations

import asyncio
import re
from functools import partial

from aiohttp import web

from index.engine import Hit, SearchEngine, SearchFilters
from index.errors import QueryError
from support_requests.tokens import TokenRole
from web.api import params
from web.api.auth import requires
from web.api.errors import ApiError
from web.api.serialise import entry_json, entry_summary_json, hit_json
from web.metrics import observe_search
from web.services import SERVICES_KEY

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


def _engine(request: web.Request) -> SearchEngine:
    return request.app[SERVICES_KEY].engine


@requires(TokenRole.READER)
async def search(request: web.Request) -> web.Response:
    """Rank catalogue entries for a need: ``q`` (required), ``type`` and ``site`` filters, ``limit`` (1-50)."""
    query = request.rel_url.query
    params.check_known(query, ("q", "type", "site", "limit"))
    engine = _engine(request)
    text = params.single(query, "q")
    if text is None or not re.search(params.NOT_BLANK, text):
        raise ApiError(400, "q is required: the need in plain words, such as q=GMP+manufacturing+of+a+viral+vector")
    longest = engine.settings.max_query_chars
    if len(text) > longest:
        raise ApiError(400, f"q is too long: {len(text)} characters, at most {longest}")
    filters = SearchFilters(types=params.entry_types(query), sites=params.sites(query))
    limit = params.integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    try:
        hits = await _search(engine, text, filters, limit)
    except QueryError:
        # Nothing searchable is left once tags, punctuation and control characters are set aside ("<b></b>",
        # "?!"): the document allows any text that is not blank, so the answer is no hits rather than an error.
        hits = []
    observe_search(request.app, "api", hits)
    return web.json_response({
        "query": text,
        "filters": {"types": sorted(t.value for t in filters.types), "sites": sorted(s.value for s in filters.sites)},
        "count": len(hits),
        "hits": [hit_json(hit) for hit in hits],
    })


async def _search(engine: SearchEngine, text: str, filters: SearchFilters, top: int) -> list[Hit]:
    # Encoding the need and FAISS release the GIL: a worker thread keeps the service answering meanwhile.
    return await asyncio.get_running_loop().run_in_executor(None, partial(engine.search, text, top=top,
                                                                          filters=filters))


@requires(TokenRole.READER)
async def list_entries(request: web.Request) -> web.Response:
    """Every catalogue entry, sorted by id, optionally only of some ``type`` or ``site``."""
    query = request.rel_url.query
    params.check_known(query, ("type", "site"))
    types, sites = params.entry_types(query), params.sites(query)
    entries = [entry_summary_json(entry) for entry in _engine(request).entries()
               if (not types or entry.type in types) and (not sites or entry.site in sites)]
    entries.sort(key=lambda item: item["id"])
    return web.json_response({"count": len(entries), "entries": entries})


@requires(TokenRole.READER)
async def get_entry(request: web.Request) -> web.Response:
    """One catalogue entry with every field and its contact."""
    params.check_known(request.rel_url.query, ())
    engine = _engine(request)
    entry_id = request.match_info["entry_id"]
    entry = engine.entry(entry_id)
    if entry is None:
        raise ApiError(404, f"no catalogue entry with id '{params.shown(entry_id)}'")
    return web.json_response(entry_json(entry, engine.entry))
