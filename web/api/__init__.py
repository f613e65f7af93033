"""The JSON API under ``/api/``, for machine clients with a bearer token.

- ``GET /api/search``, ``GET /api/entries``, ``GET /api/entries/{entry_id}``: the catalogue (role ``reader``);
- ``GET|POST /api/requests``, ``GET|PATCH /api/requests/{reference}``: support requests (role ``advisor``);
- ``GET /api/openapi.json`` and ``/api/openapi.yaml``: the OpenAPI 3.1 document (public).

Tokens are created with ``navigator tokens add NAME --role reader|advisor`` (:mod:`web.api.tokens`).
Errors are ``{"error": "<message>"}`` with a 4xx status (:mod:`web.api.middleware`). See ``docs/api.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from navigator.context import SERVICES_KEY
from web.api import catalogue_views, request_views
from web.api.auth import TOKENS_KEY
from web.api.middleware import api_middleware
from web.api.openapi import OPENAPI_KEY, load_openapi, openapi_json, openapi_yaml
from web.api.tokens import TokenStore

__all__ = ["TOKENS_KEY", "setup"]


def setup(app: web.Application) -> None:
    """Add the API's routes, its middleware and its token store (opened on the request database at start-up).

    Args:
        app: the service's application, before it starts; its services cleanup context must already be
            registered (``create_app`` does that), since the token store uses the request store's engine.
    """
    app[OPENAPI_KEY] = load_openapi()
    app.cleanup_ctx.append(_token_store)
    app.middlewares.append(api_middleware)
    router = app.router
    router.add_get("/api/openapi.json", openapi_json, name="api-openapi-json")
    router.add_get("/api/openapi.yaml", openapi_yaml, name="api-openapi-yaml")
    router.add_get("/api/search", catalogue_views.search, name="api-search")
    router.add_get("/api/entries", catalogue_views.list_entries, name="api-entries")
    router.add_get("/api/entries/{entry_id}", catalogue_views.get_entry, name="api-entry")
    router.add_get("/api/requests", request_views.list_requests, name="api-requests")
    router.add_post("/api/requests", request_views.create_request, name="api-requests")
    router.add_get("/api/requests/{reference}", request_views.get_request, name="api-request")
    router.add_patch("/api/requests/{reference}", request_views.update_request, name="api-request")


async def _token_store(app: web.Application) -> AsyncIterator[None]:
    app[TOKENS_KEY] = TokenStore(app[SERVICES_KEY].store.engine)
    yield
