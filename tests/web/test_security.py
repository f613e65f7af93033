"""The security headers: on pages, errors, redirects, JSON and static files; a handler's own policy is kept."""

from __future__ import annotations

import pytest
from aiohttp import web

from tests.web.conftest import ConsoleWorld
from web.security import CONTENT_SECURITY_POLICY

OWN_POLICY = "default-src 'self'; connect-src 'self' ws://localhost:5005"


def assert_security_headers(response, *, console: bool) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    if console:
        assert headers["Cache-Control"] == "no-store"


def test_the_policy_is_strict() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives == {
        "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
        "connect-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(("path", "status", "is_console"), [
    ("/console/sign-in", 200, True),
    ("/console/requests", 302, True),
    ("/console/search.json", 401, True),
    ("/console/no-such-page", 404, True),
    ("/health", 200, False),
    ("/static/console/console.js", 200, False),
    ("/static/console/console.css", 200, False),
    ("/no-such-page", 404, False),
])
async def test_responses_and_errors_carry_the_headers(console: ConsoleWorld, path: str, status: int,
                                                      is_console: bool) -> None:
    response = await console.client.get(path, allow_redirects=False)
    assert response.status == status
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert_security_headers(response, console=is_console)
    if not is_console:
        assert response.headers.get("Cache-Control") != "no-store"


async def test_a_csrf_refusal_carries_the_headers(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.post("/console/requests/new", data={}, allow_redirects=False)
    assert response.status == 403
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert_security_headers(response, console=True)


async def test_a_handlers_own_policy_is_kept(console_factory) -> None:
    async def own(request: web.Request) -> web.Response:
        return web.Response(text="widget", headers={"Content-Security-Policy": OWN_POLICY})

    async def own_error(request: web.Request) -> web.Response:
        raise web.HTTPBadRequest(text="no", headers={"Content-Security-Policy": OWN_POLICY})

    def prepare(app: web.Application) -> None:
        app.router.add_get("/own-policy", own)
        app.router.add_get("/own-policy-error", own_error)

    world = await console_factory(prepare=prepare)
    for path, status in (("/own-policy", 200), ("/own-policy-error", 400)):
        response = await world.client.get(path)
        assert response.status == status
        assert response.headers.getall("Content-Security-Policy") == [OWN_POLICY]
        assert_security_headers(response, console=False)


async def test_console_pages_use_no_inline_script_or_style(signed_in: ConsoleWorld) -> None:
    for path in ("/console/", "/console/requests", "/console/requests/new", "/console/entries/vecura-gmp"):
        html = await (await signed_in.client.get(path)).text()
        assert "<script>" not in html and "<style" not in html and " style=" not in html, path
        assert " onclick=" not in html and "javascript:" not in html, path
