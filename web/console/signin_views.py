"""Signing in to the console and out again."""

from __future__ import annotations

import asyncio
import logging

import aiohttp_jinja2
from aiohttp import web

from support_requests.accounts import SignInRefusedError
from web.console.auth import (
    SIGN_IN_PATH,
    check_csrf,
    current_advisor,
    flash,
    page_context,
    safe_next,
    sign_in,
    sign_out,
)
from web.services import SERVICES_KEY

log = logging.getLogger(__name__)

MAX_USERNAME_CHARS = 64


def add_routes(app: web.Application) -> None:
    """Register the sign-in page (GET and POST) and sign-out (POST)."""
    app.router.add_get(SIGN_IN_PATH, sign_in_page, name="console_sign_in")
    app.router.add_post(SIGN_IN_PATH, sign_in_submit)
    app.router.add_post("/console/sign-out", sign_out_submit, name="console_sign_out")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """The sign-in form; an advisor already signed in goes straight on to ``next``."""
    target = safe_next(request.query.get("next"))
    if await current_advisor(request) is not None:
        raise web.HTTPFound(target)
    return await _render(request, target=target, username="", error=None, status=200)


async def sign_in_submit(request: web.Request) -> web.StreamResponse:
    """Check the username and password; on success start a new session and go to ``next`` (303)."""
    form = await request.post()
    await check_csrf(request, form)
    target = safe_next(_text(form.get("next")))
    username = _text(form.get("username")).strip()
    password = _text(form.get("password"))
    if not username or not password:
        return await _render(request, target=target, username=username[:MAX_USERNAME_CHARS],
                             error="Enter your username and your password.", status=400)
    accounts = request.app[SERVICES_KEY].accounts
    try:
        state = await asyncio.to_thread(accounts.authenticate, username, password)
    except SignInRefusedError as refused:
        return await _render(request, target=target, username=username[:MAX_USERNAME_CHARS], error=str(refused),
                             status=401)
    await sign_in(request, state)
    raise web.HTTPSeeOther(target)


async def sign_out_submit(request: web.Request) -> web.StreamResponse:
    """End the session and show the sign-in page (303)."""
    if await current_advisor(request) is not None:
        await check_csrf(request, await request.post())
        await sign_out(request)
        await flash(request, "You have signed out.")
    raise web.HTTPSeeOther(SIGN_IN_PATH)


async def _render(request: web.Request, *, target: str, username: str, error: str | None,
                  status: int) -> web.Response:
    context = await page_context(request, next=target, username=username, error=error)
    return aiohttp_jinja2.render_template("console/sign_in.html", request, context, status=status)


def _text(value: object) -> str:
    """A form field as text ('' for a missing field or an uploaded file)."""
    return value if isinstance(value, str) else ""
