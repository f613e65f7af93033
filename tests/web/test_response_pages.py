"""Response times and the requests waiting too long in the console, on the seeded history with known answers
(tests/support_requests/response_history.py): the home page's list, the queue's flag and filter, and the
response-time tables of /console/outcomes. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.support_requests.response_history import at, seed_responses
from tests.web.conftest import ConsoleWorld, signed_in_with_fake_clock
from tests.web.test_insights_pages import assert_safe
from tests.web.test_outcome_pages import cell, row


@pytest.fixture
async def world(console_factory) -> ConsoleWorld:
    """Signed in as eva, with the seeded history; the test moves the clock."""
    world, world.clock = await signed_in_with_fake_clock(console_factory)
    world.references = seed_responses(world.store, world.clock)
    world.names = {reference: name for name, reference in world.references.items()}
    return world


def waiting_rows(world: ConsoleWorld, html: str) -> list[str]:
    return [world.names[reference] for reference in re.findall(r'<tr data-reference="([^"]+)">', html)]


def flagged(world: ConsoleWorld, html: str) -> dict[str, str]:
    """The queue's rows with the waiting flag: name -> the flag's text."""
    found = {}
    for reference, text in re.findall(r'<a href="/console/requests/([^"]+)">[^<]*</a></td>(.*?)</tr>', html,
                                      re.DOTALL):
        flag = re.search(r'class="flag-waiting"[^>]*>([^<]*)<', text)
        if flag:
            found[world.names[reference]] = flag.group(1)
    return found


@pytest.mark.parametrize(("now", "expected", "days"), [
    (at(2026, 4, 10, 12, 0), [], []),  # Easter: F and H have waited 4 working days, I 5
    (at(2026, 4, 14, 12, 0), ["I", "H", "F"], ["7", "6", "6"]),
    (at(2027, 1, 5, 12, 0), ["I", "H", "F", "G", "C"], None),  # C over Christmas and the New Year
])
async def test_the_home_page_lists_the_requests_waiting_too_long(world: ConsoleWorld, now, expected,
                                                                 days) -> None:
    world.clock.now = now
    html = await (await world.client.get("/console/")).text()
    assert_safe(html)
    assert 'id="waiting-heading"' in html
    assert waiting_rows(world, html) == expected
    if expected:
        assert cell(html, "waiting-total") == str(len(expected))
        if days:
            assert re.findall(r'<td class="number">(\d+)</td>\s*</tr>', html)[-len(days):] == days
    else:
        assert "No request has waited more than 5 working days" in html
    assert 'id="goal-heading"' in html and 'id="notes"' in html


async def test_the_threshold_comes_from_the_settings(console_factory) -> None:
    world, clock = await signed_in_with_fake_clock(console_factory, NAVIGATOR_WAITING_WORKING_DAYS="6")
    references = seed_responses(world.store, clock)
    clock.now = at(2026, 4, 14, 12, 0)
    html = await (await world.client.get("/console/")).text()
    assert re.findall(r'<tr data-reference="([^"]+)">', html) == [references["I"]]  # 7 working days; H, F 6
    assert "after more than 6 working days" in html


async def test_the_queue_flags_the_waiting_requests_and_filters_them(world: ConsoleWorld) -> None:
    world.clock.now = at(2026, 4, 14, 12, 0)
    html = await (await world.client.get("/console/requests")).text()
    assert_safe(html)
    assert flagged(world, html) == {"I": "waiting 7 working days", "H": "waiting 6 working days",
                                    "F": "waiting 6 working days"}
    only = await (await world.client.get("/console/requests?waiting=1")).text()
    assert sorted(re.findall(r'<a href="/console/requests/([^"/]+)">', only)) == sorted(
        world.references[name] for name in ("I", "H", "F"))
    assert 'name="waiting" value="1" checked' in only
    csv_text = await (await world.client.get("/console/requests.csv?waiting=1")).text()
    assert sorted(line.split(",")[0] for line in csv_text.splitlines()[1:]) == sorted(
        world.references[name] for name in ("I", "H", "F"))
    assert (await world.client.get("/console/requests?waiting=yes")).status == 400


async def test_the_outcomes_page_shows_the_response_times(world: ConsoleWorld) -> None:
    html = await (await world.client.get("/console/outcomes?from=2026-01-01&to=2026-12-31")).text()
    assert_safe(html)
    assert 'id="response-heading"' in html
    nbsp = "&nbsp;"
    assert row(html, "response-by-entry:" + "all") == ["All requests", "8", "4", f"18.0{nbsp}h", f"3.8{nbsp}days", "2",
                                f"7.0{nbsp}days", f"7.0{nbsp}days"]
    assert row(html, "response-by-entry:" + "vecura-gmp") == ["Vecura", "2", "2", f"2.8{nbsp}days", f"4.5{nbsp}days", "2",
                                       f"7.0{nbsp}days", f"7.0{nbsp}days"]
    assert row(html, "response-by-entry:" + "(no entry chosen)")[:4] == ["No entry chosen", "4", "1", f"24.0{nbsp}h"]
    assert row(html, "response-by-advisor:" + "eva") == ["eva", "3", "3", f"24.0{nbsp}h", f"4.2{nbsp}days", "1", f"7.0{nbsp}days",
                                f"7.0{nbsp}days"]
    assert row(html, "response-by-advisor:" + "olle")[:5] == ["olle", "1", "1", f"12.0{nbsp}h", f"12.0{nbsp}h"]
    assert row(html, "response-by-advisor:" + "(unassigned)") == ["(unassigned)", "4", "0", "–", "–", "0", "–", "–"]
