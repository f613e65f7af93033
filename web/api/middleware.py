"""The API middleware: authentication before the view, and JSON errors after it, for ``/api/`` paths only.

Every other path passes straight through, so the pages, ``/metrics`` and Rasa's ``/webhook`` keep
their own behaviour.
"""

from __future__ import annotations

import logging

from aiohttp import web

from index.errors import QueryError
from support_requests.errors import SupportRequestError
from web.api.auth import Handler, authenticate, required_role
from web.api.errors import ApiError, error_response, from_domain_error, from_http_exception
from support_requests.tokens import TokenError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    """True for ``/api`` and everything below it."""
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate API requests, run the view, and answer every error as ``{"error": ...}``.

    Returns:
        The view's response, or a JSON error: 400/404/405/409/413/415/422 for what the client sent,
        401/403 for a missing, invalid or insufficient token, 503 when the database cannot be used,
        500 (logged with its traceback) for a fault of the service.
    """
    if not is_api_path(request.path):
        return await handler(request)
    try:
        response = await _authenticated(request, handler)
    except ApiError as error:
        response = _answer(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _answer(from_http_exception(exc, request))
    except (QueryError, SupportRequestError, TokenError) as exc:
        response = _answer(from_domain_error(exc) or ApiError(400, str(exc)))
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = error_response(500, "the service failed to answer; the error has been logged")
    # Answers may hold personal data (requests) and depend on the token: never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is None:
        role = required_role(request.match_info.handler)
        if role is not None:
            await authenticate(request, role)
    return await handler(request)


def _answer(error: ApiError) -> web.Response:
    return error_response(error.status, error.message, headers=error.headers, field=error.field)
