"""The public follow-up page ``/follow-up/{token}`` through the test client: reached without an account, answered
once, refused for a tampered, expired or foreign link, with limits on what is posted. Each test runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from navigator.stores import follow_up_policy
from support_requests.tables import FollowUpRow
from tests.support_requests.helpers import FakeClock
from tests.support_requests.satisfaction_history import follow_up_token
from tests.web.conftest import ConsoleWorld, signed_in_with_fake_clock
from tests.web.test_insights_pages import assert_safe

PUBLIC_URL = "https://navigator.example.org"


@pytest.fixture
async def world(console_factory) -> tuple[ConsoleWorld, FakeClock]:
    """Signed in as eva, with follow-ups on (sent at completion) and the store on a fake clock."""
    world, clock = await signed_in_with_fake_clock(console_factory, NAVIGATOR_PUBLIC_URL=PUBLIC_URL)
    world.store.follow_up = follow_up_policy(world.settings)
    return world, clock


async def completed_in_the_console(world: ConsoleWorld, draft_name: str = "form-1") -> str:
    """A request taken in progress and closed by eva through the console's status form; its follow-up's token."""
    from tests.support_requests.helpers import make_draft

    reference = world.store.create(make_draft(world.store.clock), draft_name).reference
    for status in ("in_progress", "closed"):
        response = await world.post_form(f"/console/requests/{reference}/status", {"status": status, "note": ""})
        assert response.status == 303, await response.text()
    return follow_up_token(world.store, reference)


def state(html: str) -> str:
    found = re.search(r'<main id="main" class="narrow" data-state="([a-z_]+)"', html)
    assert found, "the page names no state"
    return found.group(1)


def stored(world: ConsoleWorld) -> list[tuple]:
    with world.store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(FollowUpRow.score, FollowUpRow.comment, FollowUpRow.answered_at).order_by(FollowUpRow.id))]


async def test_a_company_answers_once_without_an_account(world) -> None:
    world, clock = world
    token = await completed_in_the_console(world)
    world.client.session.cookie_jar.clear()  # the company has no session
    path = f"/follow-up/{token}"
    assert f"{PUBLIC_URL}{path}" in _email_body(world)

    page = await world.client.get(path)
    html = await page.text()
    assert page.status == 200 and state(html) == "open"
    assert_safe(html)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert f'action="{path}"' in html
    for score in range(1, 6):  # every radio button has its label
        assert f'<label class="check" for="score-{score}"><input type="radio" name="score" id="score-{score}"' in html
    assert '<textarea id="comment" name="comment" rows="5" maxlength="2000"' in html

    clock.advance(days=3)
    typed = "Great help <script>alert('x')</script> & thanks"
    answered = await world.client.post(path, data={"score": "4", "comment": typed})
    html = await answered.text()
    assert answered.status == 200 and state(html) == "thanks"
    assert stored(world) == [(4, typed, clock.now)]

    again = await world.client.post(path, data={"score": "1", "comment": "changed"})
    assert again.status == 409 and state(await again.text()) == "answered"
    revisit = await world.client.get(path)
    assert revisit.status == 200 and state(await revisit.text()) == "answered"
    assert stored(world) == [(4, typed, clock.now)]


def _email_body(world: ConsoleWorld) -> str:
    import json

    from sqlalchemy import text

    with world.store.engine.connect() as connection:
        payloads = connection.execute(text("SELECT payload FROM outbox ORDER BY id")).scalars().all()
    return json.loads(payloads[-1])["body"]


@pytest.mark.parametrize("change", ["signature", "expiry", "id", "truncated", "garbage"])
async def test_a_tampered_link_shows_an_error_and_changes_nothing(world, change: str) -> None:
    world, _ = world
    token = await completed_in_the_console(world)
    public_id, expiry, signature = token.split(".")
    tampered = {"signature": f"{public_id}.{expiry}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
                "expiry": f"{public_id}.{int(expiry) + 86400}.{signature}",
                "id": f"{public_id[:-1]}{'A' if public_id[-1] != 'A' else 'B'}.{expiry}.{signature}",
                "truncated": token[:-5], "garbage": "not-a-token"}[change]
    page = await world.client.get(f"/follow-up/{tampered}")
    assert page.status == 404 and state(await page.text()) == "invalid"
    posted = await world.client.post(f"/follow-up/{tampered}", data={"score": "5", "comment": "forged"})
    assert posted.status == 404 and state(await posted.text()) == "invalid"
    assert stored(world) == [(None, None, None)]
    assert (await world.client.get(f"/follow-up/{token}")).status == 200  # the real link still works


async def test_an_expired_link_says_so(world) -> None:
    world, clock = world
    token = await completed_in_the_console(world)
    clock.advance(days=60)
    page = await world.client.get(f"/follow-up/{token}")
    assert page.status == 410 and state(await page.text()) == "expired"
    posted = await world.client.post(f"/follow-up/{token}", data={"score": "5"})
    assert posted.status == 410 and state(await posted.text()) == "expired"
    assert stored(world) == [(None, None, None)]


async def test_an_answer_without_a_score_shows_the_form_again_with_what_was_typed(world) -> None:
    world, _ = world
    token = await completed_in_the_console(world)
    typed = "<b>No score</b> <script>alert('x')</script>"
    for data in ({"comment": typed}, {"score": "9", "comment": typed}, {"score": "", "comment": typed}):
        response = await world.client.post(f"/follow-up/{token}", data=data)
        html = await response.text()
        assert response.status == 400 and state(html) == "open"
        assert_safe(html)
        assert 'id="follow-up-error"' in html
        assert "&lt;b&gt;No score&lt;/b&gt; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    too_long = await world.client.post(f"/follow-up/{token}", data={"score": "3", "comment": "x" * 2001})
    assert too_long.status == 400 and 'aria-invalid="true"' in await too_long.text()
    assert stored(world) == [(None, None, None)]


async def test_a_body_too_large_or_not_a_form_stores_nothing(world) -> None:
    world, _ = world
    token = await completed_in_the_console(world)
    large = await world.client.post(f"/follow-up/{token}", data={"score": "5", "comment": "é" * 20_000})
    assert large.status == 413 and state(await large.text()) == "too_large"
    as_json = await world.client.post(f"/follow-up/{token}", json={"score": 5})
    assert as_json.status == 400
    many = "&".join(f"f{i}=1" for i in range(50)) + "&score=5"
    crowded = await world.client.post(f"/follow-up/{token}", data=many,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert crowded.status == 400
    assert stored(world) == [(None, None, None)]


async def test_a_request_closed_before_it_was_worked_on_gets_no_follow_up(world) -> None:
    world, _ = world
    from tests.support_requests.helpers import make_draft

    reference = world.store.create(make_draft(world.store.clock), "form-1").reference
    response = await world.post_form(f"/console/requests/{reference}/status", {"status": "closed", "note": ""})
    assert response.status == 303
    assert stored(world) == []
