"""What the console's request pages share: the advisors, form fields and the error page."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from support_requests.accounts import Advisor
from web.console.auth import current_advisor, page_context
from web.services import SERVICES_KEY


async def signed_in_advisor(request: web.Request) -> Advisor:
    """The advisor of a request that :func:`require_advisor` let through.

    Raises:
        web.HTTPUnauthorized: when nobody is signed in (a handler without the guard).
    """
    advisor = await current_advisor(request)
    if advisor is None:
        raise web.HTTPUnauthorized(text="Sign in to the console first.")
    return advisor


async def all_advisors(request: web.Request) -> list[Advisor]:
    """Every console account (active or not), sorted by username."""
    states = await asyncio.to_thread(request.app[SERVICES_KEY].accounts.list)
    return [state.advisor for state in states]


def display_names(advisors: list[Advisor]) -> dict[str, str]:
    """Username -> full name, to show the people recorded in requests by name."""
    return {advisor.username: advisor.display_name for advisor in advisors}


def form_text(form: Mapping[str, Any], name: str) -> str:
    """A form field as text ('' when it is missing or an uploaded file)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """A console page that explains what went wrong, with ``status``."""
    context = await page_context(request, title=title, message=message)
    return aiohttp_jinja2.render_template("console/error.html", request, context, status=status)
