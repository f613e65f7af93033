"""The funnel on /console/outcomes through the test client, on the seeded tracker store and requests with known
answers (tests/support_requests/funnel_history.py): the SVG chart with its title, description and bars, and the
weekly table beside it; a missing tracker store. Each test runs on SQLite and PostgreSQL (the request database)."""

from __future__ import annotations

import re

import pytest

from tests.support_requests.funnel_history import (
    TOTAL,
    WEEKS,
    seed_funnel_requests,
    seed_tracker,
)
from tests.web.conftest import ConsoleWorld, signed_in_with_fake_clock
from tests.web.test_insights_pages import assert_safe
from tests.web.test_outcome_pages import row

PAGE = "/console/outcomes?from=2026-03-23&to=2026-04-05&by=week"


@pytest.fixture
async def world(console_factory) -> ConsoleWorld:
    world, clock = await signed_in_with_fake_clock(console_factory)
    seed_funnel_requests(world.store, clock)
    return world


async def test_the_funnel_chart_and_its_table(world: ConsoleWorld) -> None:
    seed_tracker(world.settings.tracker_db_url)
    html = await (await world.client.get(PAGE)).text()
    assert_safe(html)
    assert '<svg class="funnel-chart"' in html and 'aria-labelledby="funnel-chart-title funnel-chart-desc"' in html
    assert "From a conversation to a completed request, 2026-03-23 to 2026-04-05" in html
    assert ("Conversations: 6 (100% of the conversations); With a search: 4 (66% of the conversations); "
            "Details or contact viewed: 3 (50% of the conversations); Request opened: 5 (83% of the "
            "conversations); Request in progress: 2 (33% of the conversations); Request completed: 1 (16% of the "
            "conversations).") in html
    assert "Request in progress: 2, 40% of the step before" in html  # a bar's tooltip
    for start, counts in WEEKS.items():
        assert row(html, f"week-{start.isoformat()}") == [f"week of {start:%d %b %Y}", *map(str, counts)]
    assert row(html, "funnel-total") == ["The period", *map(str, TOTAL)]
    assert 'id="funnel-state"' not in html
    widths = [float(w) for w in re.findall(r'<rect x="190.0" y="[\d.]+" width="([\d.]+)" height="26.0" '
                                           r'fill="#0072B2"', html)]
    assert widths == [380.0, 253.3, 190.0, 316.7, 126.7, 63.3]  # 6, 4, 3, 5, 2, 1 of 380


async def test_without_a_tracker_store_the_page_says_so(world: ConsoleWorld) -> None:
    html = await (await world.client.get(PAGE)).text()
    assert 'id="funnel-state"' in html and "missing database" in html
    assert row(html, "funnel-total") == ["The period", "0", "0", "0", "0", "0", "0"]
