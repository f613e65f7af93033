"""Signing in and out of the console, sessions, page guards and CSRF, through aiohttp's test client."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from yarl import URL

from tests.web.conftest import PASSWORD, ConsoleWorld, csrf_from
from support_requests.accounts import SIGNIN_REFUSED_MESSAGE
from web.console.auth import page_context, require_admin
from web.console.sessions import COOKIE_NAME

SAMPLE_VALUES = {"reference": "SLT-2026-0001", "entry_id": "vecura-gmp"}


def console_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) of every console route that needs a signed-in advisor, with sample path values."""
    public = {"/console", "/console/sign-in", "/console/sign-out"}
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/console") or path in public or route.method == "HEAD":
            continue
        found.append((route.method, re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES.get(m.group(1), "x"), path)))
    return sorted(set(found))


def session_cookie(world: ConsoleWorld) -> str | None:
    cookies = {cookie.key: cookie.value for cookie in world.client.session.cookie_jar}
    return cookies.get(COOKIE_NAME)


async def test_every_console_page_refuses_anonymous_visitors(console: ConsoleWorld) -> None:
    routes = console_routes(console.app)
    assert ("GET", "/console/") in routes and ("POST", "/console/requests/SLT-2026-0001/status") in routes
    assert ("GET", "/console/requests.csv") in routes and ("GET", "/console/search.json") in routes
    for method, path in routes:
        response = await console.client.request(method, path, allow_redirects=False)
        if path.endswith(".json"):
            assert response.status == 401, (method, path)
            assert "error" in await response.json()
        else:
            assert response.status == 302, (method, path, response.status)
            location = URL(response.headers["Location"])
            assert location.path == "/console/sign-in" and location.query["next"] == path, (method, path)


async def test_sign_in_goes_to_the_page_asked_for(console: ConsoleWorld) -> None:
    console.add_advisor()
    first = await console.client.get("/console/requests?status=new", allow_redirects=False)
    assert URL(first.headers["Location"]).query["next"] == "/console/requests?status=new"
    page = await console.client.get(first.headers["Location"])
    html = await page.text()
    assert page.status == 200 and 'name="next" value="/console/requests?status=new"' in html
    response = await console.client.post("/console/sign-in", data={
        "username": "eva", "password": PASSWORD, "next": "/console/requests?status=new",
        "csrf_token": csrf_from(html)}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/requests?status=new"
    home = await console.client.get("/console/")
    assert home.status == 200 and "Eva Ek" in await home.text()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/elsewhere",
                                    "/console/sign-in?next=/x"])
async def test_sign_in_never_redirects_off_the_console(console: ConsoleWorld, target: str) -> None:
    console.add_advisor()
    response = await console.sign_in(next_path=target)
    assert response.status == 303 and response.headers["Location"] == "/console/"


async def test_the_session_cookie_is_httponly_strict_and_replaced_at_sign_in(console: ConsoleWorld) -> None:
    console.add_advisor()
    page = await console.client.get("/console/sign-in")
    set_cookie = page.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie and "Path=/" in set_cookie and "Max-Age=28800" in set_cookie
    before = session_cookie(console)
    response = await console.client.post("/console/sign-in", data={
        "username": "eva", "password": PASSWORD, "csrf_token": csrf_from(await page.text())}, allow_redirects=False)
    assert response.status == 303
    after = session_cookie(console)
    assert after and after != before
    # The pre-sign-in cookie (one an attacker could have planted) does not carry the sign-in.
    jar, here = console.client.session.cookie_jar, console.client.make_url("/")
    jar.clear()
    jar.update_cookies({COOKIE_NAME: before}, response_url=here)
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302
    jar.clear()
    jar.update_cookies({COOKIE_NAME: after}, response_url=here)
    assert (await console.client.get("/console/", allow_redirects=False)).status == 200


async def test_the_cookie_is_secure_by_default(console_factory) -> None:
    world = await console_factory(NAVIGATOR_COOKIE_SECURE="true")
    page = await world.client.get("/console/sign-in")
    assert "Secure" in page.headers["Set-Cookie"]


async def test_a_wrong_password_gets_401_and_the_generic_message(console: ConsoleWorld) -> None:
    console.add_advisor()
    response = await console.sign_in(password="not the password")
    html = await response.text()
    assert response.status == 401 and SIGNIN_REFUSED_MESSAGE.replace("'", "&#39;") in html
    assert 'value="eva"' in html and "not the password" not in html
    unknown = await console.sign_in(username="nobody")
    assert unknown.status == 401 and SIGNIN_REFUSED_MESSAGE.replace("'", "&#39;") in await unknown.text()


async def test_a_missing_field_gets_400(console: ConsoleWorld) -> None:
    response = await console.client.post("/console/sign-in", data={
        "username": "eva", "csrf_token": await console.csrf()}, allow_redirects=False)
    assert response.status == 400 and "Enter your username and your password." in await response.text()


async def test_repeated_failures_lock_the_account_even_for_the_right_password(console: ConsoleWorld) -> None:
    console.add_advisor()
    for _ in range(console.settings.signin_max_failures):
        assert (await console.sign_in(password="wrong password")).status == 401
    locked = await console.sign_in()
    assert locked.status == 401 and "locked for a while" in await locked.text()
    console.accounts.unlock("eva")
    assert (await console.sign_in()).status == 303


async def test_sign_out_ends_the_session(signed_in: ConsoleWorld) -> None:
    response = await signed_in.post_form("/console/sign-out", {})
    assert response.status == 303 and response.headers["Location"] == "/console/sign-in"
    assert (await signed_in.client.get("/console/", allow_redirects=False)).status == 302
    page = await signed_in.client.get("/console/sign-in")
    assert "You have signed out." in await page.text()


async def test_sign_out_without_the_csrf_token_is_refused(signed_in: ConsoleWorld) -> None:
    response = await signed_in.post_form("/console/sign-out", {}, csrf=False)
    assert response.status == 403
    assert (await signed_in.client.get("/console/", allow_redirects=False)).status == 200


async def test_a_disabled_account_is_signed_out_at_its_next_page(signed_in: ConsoleWorld) -> None:
    signed_in.accounts.disable("eva")
    response = await signed_in.client.get("/console/requests", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/console/sign-in")


async def test_a_new_password_ends_the_other_sessions(signed_in: ConsoleWorld) -> None:
    signed_in.accounts.set_password("eva", "another long passphrase")
    assert (await signed_in.client.get("/console/", allow_redirects=False)).status == 302


async def test_a_session_older_than_the_maximum_age_is_refused(signed_in: ConsoleWorld, monkeypatch) -> None:
    import time

    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + signed_in.settings.session_max_age_minutes * 60 + 5)
    assert (await signed_in.client.get("/console/", allow_redirects=False)).status == 302


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_a_form_without_this_sessions_csrf_token_is_refused(signed_in: ConsoleWorld, token) -> None:
    signed_in.store.create  # noqa: B018 - the request below need not exist: CSRF is checked first
    data = {"text": "a note"} if token is None else {"text": "a note", "csrf_token": token}
    response = await signed_in.client.post("/console/requests/SLT-2026-0001/notes", data=data,
                                           allow_redirects=False)
    assert response.status == 403 and "reload the page" in await response.text()


async def test_a_csrf_token_from_another_session_is_refused(console_factory) -> None:
    world = await console_factory()
    world.add_advisor()
    stranger_token = await world.csrf()  # this anonymous session's token...
    world.client.session.cookie_jar.clear()
    assert (await world.sign_in()).status == 303  # ...then a new session signs in
    response = await world.client.post("/console/sign-out", data={"csrf_token": stranger_token},
                                       allow_redirects=False)
    assert response.status == 403


async def test_the_sign_in_form_itself_needs_the_csrf_token(console: ConsoleWorld) -> None:
    console.add_advisor()
    response = await console.client.post("/console/sign-in", data={"username": "eva", "password": PASSWORD},
                                         allow_redirects=False)
    assert response.status == 403


async def test_the_csrf_header_is_accepted_for_fetch_calls(signed_in: ConsoleWorld) -> None:
    token = await signed_in.csrf()
    response = await signed_in.client.post("/console/sign-out", headers={"X-CSRF-Token": token},
                                           allow_redirects=False)
    assert response.status == 303


async def test_admin_pages_refuse_advisors_with_403(console_factory) -> None:
    @require_admin
    async def admin_only(request: web.Request) -> web.Response:
        context = await page_context(request)
        return web.Response(text=f"admin {context['advisor'].username}")

    world = await console_factory(prepare=lambda app: app.router.add_get("/console/admin-test", admin_only))
    anonymous = await world.client.get("/console/admin-test", allow_redirects=False)
    assert anonymous.status == 302
    world.add_advisor()
    world.add_advisor("root", "Rita Root", "admin")
    await world.sign_in("eva")
    assert (await world.client.get("/console/admin-test")).status == 403
    await world.post_form("/console/sign-out", {})
    await world.sign_in("root")
    response = await world.client.get("/console/admin-test")
    assert response.status == 200 and await response.text() == "admin root"


async def test_the_navigation_names_the_advisor_and_every_console_page(signed_in: ConsoleWorld) -> None:
    html = await (await signed_in.client.get("/console/requests")).text()
    for link in ('href="/console/"', 'href="/console/requests"', 'href="/console/flagged"', 'href="/console/demand"'):
        assert link in html
    assert "Eva Ek" in html and 'action="/console/sign-out"' in html
    assert '<a href="/console/requests" aria-current="page">' in html


async def test_console_redirects_to_its_home(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/console/"
