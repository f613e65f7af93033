"""The companies' satisfaction in the console, on the seeded answers with known figures
(tests/support_requests/satisfaction_history.py): the Outcomes page's table and comments, and a request's
follow-up. What the companies typed is shown as text. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from navigator.stores import follow_up_policy
from tests.support_requests.satisfaction_history import Answers, seed_answers
from tests.web.conftest import ConsoleWorld, signed_in_with_fake_clock
from tests.web.test_insights_pages import assert_safe
from tests.web.test_outcome_pages import row

YEAR = "/console/outcomes?from=2026-01-01&to=2026-12-31"
ESCAPED_COMMENT = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Excellent &amp; fast"


@pytest.fixture
async def world(console_factory) -> tuple[ConsoleWorld, Answers]:
    """Signed in as eva, with the seeded answers; the clock stands at 15 July 2026."""
    world, clock = await signed_in_with_fake_clock(console_factory, NAVIGATOR_PUBLIC_URL="https://n.example.org")
    world.store.follow_up = follow_up_policy(world.settings)
    return world, seed_answers(world.store, clock)


async def test_the_outcomes_page_shows_satisfaction_per_entry(world) -> None:
    world, _ = world
    response = await world.client.get(YEAR)
    assert response.status == 200
    html = await response.text()
    assert_safe(html)
    assert row(html, "satisfaction:all") == ["All answers", "5", "3.00", "1", "1", "1", "1", "1", "40&nbsp;%"]
    assert row(html, "satisfaction:vecura-gmp") == ["Vecura", "2", "3.50", "0", "1", "0", "0", "1", "50&nbsp;%"]
    assert row(html, "satisfaction:almi-loans")[:3] == ["Almi innovation loans", "2", "3.00"]
    assert row(html, "satisfaction:(no entry chosen)")[:3] == ["No entry chosen", "1", "4.00"]
    assert 'id="figure-follow-ups">5<' in html
    first_quarter = await (await world.client.get("/console/outcomes?from=2026-01-01&to=2026-03-31")).text()
    assert row(first_quarter, "satisfaction:all")[:3] == ["All answers", "2", "3.00"]  # New Year's Day and s1


async def test_the_comments_are_shown_to_advisors_as_text(world) -> None:
    world, answers = world
    html = await (await world.client.get(YEAR)).text()
    assert_safe(html)
    assert ESCAPED_COMMENT in html and "<script>alert" not in html
    references = [answers.references[name] for name in ("s3", "s1", "s7")]  # newest first
    positions = [html.index(f'data-reference="{reference}"') for reference in references]
    assert positions == sorted(positions)
    assert "070 123 45 67" not in html  # erased with its request
    empty = await (await world.client.get("/console/outcomes?from=2027-01-01&to=2027-01-31")).text()
    assert 'id="satisfaction-no-comments"' in empty and row(empty, "satisfaction:all")[1] == "0"


async def test_a_requests_page_shows_its_follow_up(world) -> None:
    world, answers = world
    html = await (await world.client.get(f"/console/requests/{answers.references['s1']}")).text()
    assert_safe(html)
    assert 'id="follow-up-score">5 of 5' in html and f'id="follow-up-comment">{ESCAPED_COMMENT}<' in html
    erased = await (await world.client.get(f"/console/requests/{answers.references['s4']}")).text()
    assert 'id="follow-up-score">3 of 5' in erased and 'id="follow-up-comment">[erased]<' in erased
    waiting = await (await world.client.get(f"/console/requests/{answers.references['s5']}")).text()
    assert 'id="follow-up-score">not answered<' in waiting
    none = await (await world.client.get(f"/console/requests/{answers.references['s6']}")).text()
    assert 'id="follow-up"' not in none


async def test_comments_need_an_advisor(world) -> None:
    world, answers = world
    world.client.session.cookie_jar.clear()
    for path in (YEAR, f"/console/requests/{answers.references['s1']}", "/console/outcomes/report?format=csv"):
        response = await world.client.get(path, allow_redirects=False)
        assert response.status == 302 and "Excellent" not in await response.text()
