"""Errors of the JSON API: every one is answered as ``{"error": "<clear message>"}`` with its HTTP status.

Views raise :class:`ApiError`; the errors the engine and the stores raise on purpose are mapped to a
status here (:func:`from_domain_error`), so the views stay thin and every endpoint answers alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from index.errors import QueryError
from support_requests.errors import (
    InvalidTransitionError,
    RequestNotFoundError,
    RequestValidationError,
    StoreUnavailableError,
    SupportRequestError,
)
from support_requests.tokens import TokenError

BEARER_CHALLENGE = 'Bearer realm="navigator"'


class ApiError(Exception):
    """An answer other than success: ``status`` and a message that says what was wrong and what is accepted.

    Attributes:
        status: the HTTP status (4xx, or 503 when the database cannot be used).
        message: the text of the ``error`` member.
        headers: extra response headers, such as ``WWW-Authenticate`` or ``Allow``.
        field: the offending field of a body, for 422 answers (also sent as ``field``).
    """

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.field = field


def error_response(status: int, message: str, *, headers: Mapping[str, str] | None = None,
                   field: str | None = None) -> web.Response:
    """The JSON answer ``{"error": message}`` (with ``field`` when given).

    Returns:
        A response with ``status``, ``Content-Type: application/json`` and ``headers``.
    """
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status, headers=dict(headers or {}))


def unauthorized(message: str) -> ApiError:
    """A 401 with the ``WWW-Authenticate: Bearer`` challenge."""
    return ApiError(401, message, headers={"WWW-Authenticate": BEARER_CHALLENGE})


def from_domain_error(error: Exception) -> ApiError | None:
    """The API answer for an error the engine or a store raised on purpose, or None for any other error.

    Returns:
        404 for an unknown reference, 422 naming the field for a refused value, 409 for a change the
        workflow refuses (with the store's message), 400 for a query that cannot be searched, 503 when
        the database cannot be used.
    """
    if isinstance(error, RequestNotFoundError):
        return ApiError(404, str(error))
    if isinstance(error, RequestValidationError):
        return ApiError(422, str(error), field=error.field)
    if isinstance(error, InvalidTransitionError):
        return ApiError(409, str(error))
    if isinstance(error, StoreUnavailableError):
        return ApiError(503, "the request database cannot be used right now; try again later")
    if isinstance(error, QueryError):
        return ApiError(400, f"q: {error}")
    if isinstance(error, (SupportRequestError, TokenError)):
        return ApiError(400, str(error))
    return None


def from_http_exception(exc: web.HTTPException, request: web.Request) -> ApiError:
    """The JSON form of an aiohttp HTTP exception raised under ``/api/`` (unknown path, wrong method, ...)."""
    headers: dict[str, str] = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        headers["Allow"] = allowed
        return ApiError(405, f"{request.method} is not allowed on {request.path}; allowed: {allowed}",
                        headers=headers)
    if isinstance(exc, web.HTTPNotFound):
        return ApiError(404, f"there is no API endpoint at {request.path}; the endpoints are listed in "
                             "/api/openapi.json")
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return ApiError(413, "the body is too large")
    message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return ApiError(exc.status, message or exc.reason, headers={k: v for k, v in exc.headers.items()
                                                              if k in ("Allow", "WWW-Authenticate", "Retry-After")})
