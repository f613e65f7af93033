"""Bearer-token authentication of the JSON API.

Each view declares the role it needs with :func:`requires`; the API middleware calls
:func:`authenticate` before the view runs. A view without a declared role (the OpenAPI
document) is public.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from support_requests.tokens import TokenInfo, TokenRole
from web.api.errors import ApiError, unauthorized
from web.services import SERVICES_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN_INFO_KEY = web.RequestKey("api_token", TokenInfo)
_ROLE_ATTRIBUTE = "_navigator_api_role"


def requires(role: TokenRole) -> Callable[[Handler], Handler]:
    """Mark a view as needing a token with at least ``role``.

    Returns:
        A decorator that returns the view unchanged, with the role attached.
    """

    def mark(view: Handler) -> Handler:
        setattr(view, _ROLE_ATTRIBUTE, role)
        return view

    return mark


def required_role(view: object) -> TokenRole | None:
    """The role a view needs, or None for a public view."""
    return getattr(view, _ROLE_ATTRIBUTE, None)


def bearer_token(request: web.Request) -> str:
    """The token of the ``Authorization: Bearer <token>`` header.

    Raises:
        ApiError: 401 when the header is missing or not a bearer token.
    """
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise unauthorized("this endpoint needs a token: send 'Authorization: Bearer <token>' "
                           "(an administrator creates one with 'navigator tokens add NAME --role reader')")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def authenticate(request: web.Request, role: TokenRole) -> TokenInfo:
    """Check the request's token and its role, and remember the token on the request.

    Returns:
        The token's details (also stored as ``request[TOKEN_INFO_KEY]``).

    Raises:
        ApiError: 401 for a missing, unknown or revoked token, 403 when its role is not enough.
        StoreUnavailableError: when the token database cannot be used.
    """
    token = bearer_token(request)
    info = await asyncio.to_thread(request.app[SERVICES_KEY].tokens.verify, token)
    if info is None:
        raise unauthorized("the token is not valid: it is unknown or has been revoked")
    if not info.role.includes(role):
        raise ApiError(403, f"this endpoint needs a token with the {role.value} role; "
                            f"this token has the {info.role.value} role")
    request[TOKEN_INFO_KEY] = info
    return info


def token_of(request: web.Request) -> TokenInfo:
    """The token that authenticated ``request`` (set by :func:`authenticate`)."""
    return request[TOKEN_INFO_KEY]
