"""The public follow-up page, ``/follow-up/{token}``: "Did this help?" from 1 to 5 and an optional comment, reached
from the email a company gets when its request is completed (:mod:`support_requests.follow_up`).

There is no account and no session: the signed token in the address the form posts to is the only authority
(it stands in for a CSRF token, which a page reached from an email cannot have). A token this service did not
sign is refused before anything else is read; an answer is stored once. The body of a POST is read only up to
:data:`MAX_BODY_BYTES`. Everything the company typed is shown back as text (the templates autoescape).

Pages (``follow_up/page.html``; ``data-state`` on its ``<main>`` names the state): the form (200), the thanks
after an answer (200), already answered (200 on GET, 409 on a second POST), expired (410), a link that is not
valid (404), a form that cannot be taken (400, the form again with what was typed), a body too large (413),
the database unreachable (503).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl

import aiohttp_jinja2
from aiohttp import web

from support_requests.errors import RequestValidationError, StoreUnavailableError
from support_requests.follow_up import FOLLOW_UP_PATH, FollowUpLinkError
from support_requests.follow_up_answers import MAX_COMMENT_CHARS, SCORES, FollowUpLink, LinkState
from web.services import SERVICES_KEY

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024
"""The largest form accepted: a comment of :data:`MAX_COMMENT_CHARS` characters, each up to 12 bytes once
UTF-8 and percent-encoded, with room to spare."""

TEMPLATE = "follow_up/page.html"

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def setup(app: web.Application) -> None:
    """Add the follow-up page to ``app``."""
    app.router.add_get(FOLLOW_UP_PATH + "{token}", follow_up_page, name="follow_up")
    app.router.add_post(FOLLOW_UP_PATH + "{token}", follow_up_answer)


async def follow_up_page(request: web.Request) -> web.Response:
    """The form, or why the link cannot be used."""
    token = request.match_info["token"]
    try:
        link = await asyncio.to_thread(request.app[SERVICES_KEY].follow_ups.look_up, token)
    except FollowUpLinkError:
        return _render(request, "invalid", status=404)
    except StoreUnavailableError as error:
        log.warning("follow-up page: the request database cannot be reached: %s", type(error).__name__)
        return _render(request, "unavailable", status=503)
    status = {LinkState.OPEN: 200, LinkState.ANSWERED: 200, LinkState.EXPIRED: 410}[link.state]
    return _render(request, link.state.value, link=link, token=token, status=status)


async def follow_up_answer(request: web.Request) -> web.Response:
    """Store the posted ``score`` (1 to 5) and ``comment``, once."""
    token = request.match_info["token"]
    follow_ups = request.app[SERVICES_KEY].follow_ups
    try:
        follow_ups.links.verify(token)  # nothing of the body is read for a link that is not ours
    except FollowUpLinkError:
        return _render(request, "invalid", status=404)
    form = await _read_form(request)
    if form is None:
        return _render(request, "too_large", status=413)
    score, comment = form.get("score", ""), form.get("comment", "")
    try:
        link = await asyncio.to_thread(follow_ups.answer, token, score, comment)
    except FollowUpLinkError:
        return _render(request, "invalid", status=404)
    except RequestValidationError as error:
        try:
            current = await asyncio.to_thread(follow_ups.look_up, token)
        except (FollowUpLinkError, StoreUnavailableError):
            return _render(request, "invalid", status=404)
        if current.state is not LinkState.OPEN:
            return _render(request, current.state.value, link=current, token=token, status=_refused(current))
        return _render(request, "open", link=current, token=token, error=error.field, typed_score=score,
                       typed_comment=comment[: MAX_COMMENT_CHARS * 2], status=400)
    except StoreUnavailableError as error:
        log.warning("follow-up answer: the request database cannot be reached: %s", type(error).__name__)
        return _render(request, "unavailable", status=503)
    if link.answered:
        log.info("follow-up of %s answered", link.reference)
        return _render(request, "thanks", link=link)
    return _render(request, link.state.value, link=link, token=token, status=_refused(link))


def _refused(link: FollowUpLink) -> int:
    return 410 if link.state is LinkState.EXPIRED else 409


async def _read_form(request: web.Request) -> dict[str, str] | None:
    """The url-encoded form (first value of each field; anything undecodable becomes U+FFFD), or None when the body
    is larger than :data:`MAX_BODY_BYTES`. Another content type gives an empty form (the answer is then refused
    for its missing score)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = bytearray()
    while True:
        chunk = await request.content.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    if request.content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # more fields than any form of ours has
        return {}
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def _render(request: web.Request, state: str, *, status: int = 200, **values: object) -> web.Response:
    context = {"state": state, "scores": SCORES, "max_comment_chars": MAX_COMMENT_CHARS, "link": None, "token": "",
               "error": None, "typed_score": "", "typed_comment": "", **values}
    response = aiohttp_jinja2.render_template(TEMPLATE, request, context, status=status)
    response.headers.update(_HEADERS)
    return response
