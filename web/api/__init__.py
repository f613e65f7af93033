"""The JSON API under ``/api/``, for machine clients with a bearer token.

- ``GET /api/search``, ``GET /api/entries``, ``GET /api/entries/{entry_id}``: the catalogue (role ``reader``);
- ``GET|POST /api/requests``, ``GET|PATCH /api/requests/{reference}``: support requests (role ``advisor``);
- ``GET /api/openapi.json`` and ``/api/openapi.yaml``: the OpenAPI 3.1 document (public).

Tokens are created with ``navigator tokens add NAME --role reader|advisor`` (:mod:`support_requests.tokens`).
Errors are ``{"error": "<message>"}`` with a 4xx status (:mod:`web.api.middleware`). See ``docs/api.md``.
"""

from __future__ import annotations

from aiohttp import web

from web.api import catalogue_views, request_views
from web.api.middleware import api_middleware
from web.api.openapi import OPENAPI_KEY, load_openapi, openapi_json, openapi_yaml

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Add the API's routes, its middleware and its OpenAPI document (the token store is in ``Services``)."""
    app[OPENAPI_KEY] = load_openapi()
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
