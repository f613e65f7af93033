"""Who is signed in to the console, guards for page handlers, CSRF tokens, and the context every page needs.

Every console handler is wrapped in :func:`require_advisor` (or :func:`require_admin`); every form that
changes something carries :func:`csrf_token` in a hidden ``csrf_token`` field and its handler calls
:func:`check_csrf` first. Templates extending ``console/base.html`` get their context from :func:`page_context`.

The session holds the advisor's username, when they signed in, a stamp of their password hash (so changing a
password ends the account's other sessions) and the CSRF token; it is encrypted in the cookie (see
:mod:`web.console.sessions`).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from support_requests.accounts import AccountState, Advisor
from web.services import SERVICES_KEY, SETTINGS_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SIGN_IN_PATH = "/console/sign-in"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

_ADVISOR = "advisor"
_STAMP = "stamp"
_SIGNED_IN_AT = "signed_in_at"
_CSRF = "csrf"
_FLASH = "flash"
_REQUEST_CACHE = web.RequestKey("console_advisor", object)  # Advisor | None, looked up once per request


async def current_advisor(request: web.Request) -> Advisor | None:
    """The advisor signed in on this request's session.

    Returns:
        The advisor, or None when nobody is signed in, the session is older than the session lifetime,
        the account was disabled or removed, or its password changed since this session began.
    """
    if _REQUEST_CACHE in request:
        return request[_REQUEST_CACHE]
    advisor = await _advisor_from_session(request)
    request[_REQUEST_CACHE] = advisor
    return advisor


async def _advisor_from_session(request: web.Request) -> Advisor | None:
    session = await get_session(request)
    username = session.get(_ADVISOR)
    if not isinstance(username, str):
        return None
    max_age = request.app[SETTINGS_KEY].session_max_age_minutes * 60
    signed_in_at = session.get(_SIGNED_IN_AT)
    if not isinstance(signed_in_at, (int, float)) or not 0 <= time.time() - signed_in_at <= max_age:
        session.invalidate()
        return None
    state: AccountState | None = await asyncio.to_thread(request.app[SERVICES_KEY].accounts.find, username)
    if state is None or not state.advisor.active or not hmac.compare_digest(
            state.session_stamp, str(session.get(_STAMP, ""))):
        session.invalidate()
        return None
    return state.advisor


async def sign_in(request: web.Request, state: AccountState) -> None:
    """Start a fresh session for the account ``state`` (a new cookie: a session id planted before is useless).

    Args:
        request: the sign-in request.
        state: the account, as returned by :meth:`AccountStore.authenticate`.
    """
    session = await new_session(request)
    session[_ADVISOR] = state.advisor.username
    session[_STAMP] = state.session_stamp
    session[_SIGNED_IN_AT] = int(time.time())
    session[_CSRF] = secrets.token_urlsafe(32)
    request[_REQUEST_CACHE] = state.advisor


async def sign_out(request: web.Request) -> None:
    """End the session: the cookie is cleared in the response."""
    session = await get_session(request)
    session.invalidate()
    request[_REQUEST_CACHE] = None


def _refuse_anonymous(request: web.Request) -> web.HTTPException:
    if request.path.startswith("/console/") and request.path.endswith(".json"):
        return web.HTTPUnauthorized(text='{"error": "Sign in to the console first."}',
                                    content_type="application/json")
    return web.HTTPFound(f"{SIGN_IN_PATH}?next={quote(request.path_qs, safe='')}")


def require_advisor(handler: Handler) -> Handler:
    """Let only signed-in advisors reach ``handler``.

    Anonymous page requests are redirected (302) to ``/console/sign-in?next=<path>``; anonymous requests to a
    ``/console/...json`` path get 401 with a JSON error.

    Args:
        handler: an aiohttp handler taking the request.

    Returns:
        The guarded handler.
    """

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if await current_advisor(request) is None:
            raise _refuse_anonymous(request)
        return await handler(request)

    return guarded


def require_admin(handler: Handler) -> Handler:
    """Let only signed-in administrators reach ``handler``: anonymous requests as :func:`require_advisor`,
    signed-in advisors without the admin role get 403.

    Args:
        handler: an aiohttp handler taking the request.

    Returns:
        The guarded handler.
    """

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        advisor = await current_advisor(request)
        if advisor is None:
            raise _refuse_anonymous(request)
        if not advisor.is_admin:
            raise web.HTTPForbidden(text="This page is for administrators.")
        return await handler(request)

    return guarded


async def csrf_token(request: web.Request) -> str:
    """This session's CSRF token, created on first use (it also starts a session for a signed-out visitor,
    so the sign-in form is protected too).

    Returns:
        The token to put in a hidden ``csrf_token`` field (or the ``X-CSRF-Token`` header of a fetch call).
    """
    session = await get_session(request)
    token = session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF] = token
    return token


async def check_csrf(request: web.Request, form: Mapping[str, Any] | None) -> None:
    """Refuse a state-changing request whose CSRF token is missing or is not this session's.

    Args:
        request: the request; its ``X-CSRF-Token`` header is used when the form has no ``csrf_token``.
        form: the posted form (``await request.post()``), or None for a fetch call.

    Raises:
        web.HTTPForbidden: when the token does not match.
    """
    session = await get_session(request)
    expected = session.get(_CSRF)
    given = form.get(CSRF_FIELD) if form is not None else None
    if not given:
        given = request.headers.get(CSRF_HEADER)
    if not isinstance(expected, str) or not expected or not isinstance(given, str) \
            or not hmac.compare_digest(expected.encode(), given.encode()):
        raise web.HTTPForbidden(text="This form has expired or did not come from the console. "
                                     "Go back, reload the page and try again.")


async def flash(request: web.Request, message: str) -> None:
    """Keep a short confirmation for the next page this session shows (after a redirect)."""
    session = await get_session(request)
    session[_FLASH] = message


async def page_context(request: web.Request, **values: Any) -> dict[str, Any]:
    """The template context of a console page: ``values`` plus what ``console/base.html`` needs.

    Args:
        request: the request being answered.
        **values: the page's own values.

    Returns:
        ``values`` with ``advisor`` (the signed-in :class:`Advisor` or None), ``csrf_token``, ``flash`` (a
        confirmation kept by :func:`flash`, shown once, or None) and ``nav_path`` (the request path, to mark
        the current navigation link).
    """
    session: Session = await get_session(request)
    message = session.pop(_FLASH, None)
    return {"advisor": await current_advisor(request), "csrf_token": await csrf_token(request),
            "flash": message if isinstance(message, str) else None, "nav_path": request.path, **values}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: ``target`` when it is a console path on this site, else ``/console/``.

    Anything else (another host, ``//host``, a scheme, a backslash) would make the sign-in page an open redirect.
    """
    if isinstance(target, str) and target.startswith("/console") and not target.startswith("//") \
            and "\\" not in target and not any(ord(char) < 32 for char in target) \
            and not target.startswith(SIGN_IN_PATH):
        return target
    return "/console/"
