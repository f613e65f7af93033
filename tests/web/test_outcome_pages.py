"""The programme manager's pages through the test client, on the seeded history with known answers
(tests/support_requests/outcome_history.py): the home page's goal, /console/outcomes with its chart, breakdowns and
downloads, and the companies with their merge. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from tests.support_requests.helpers import make_draft
from tests.support_requests.outcome_history import seed_history
from tests.web.conftest import ConsoleWorld, assert_sign_in_required, signed_in_with_fake_clock
from tests.web.test_insights_pages import assert_safe

PAGES = ["/console/outcomes", "/console/outcomes/report?format=xlsx", "/console/companies", "/console/companies/1"]


@pytest.fixture
async def world(console_factory) -> ConsoleWorld:
    """Signed in as eva, with the seeded history; the clock stands at 15 July 2026."""
    world, clock = await signed_in_with_fake_clock(console_factory, NAVIGATOR_LAB_SPACE_ENTRIES="flow-biomedicum")
    world.history = seed_history(world.store, clock)
    return world


def cell(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, element_id
    return found.group(1).strip()


def row(html: str, key: str) -> list[str]:
    found = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.DOTALL)
    assert found, key
    return [re.sub(r"<[^>]+>", "", part).strip() for part in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                                        found.group(1), re.DOTALL)]


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_visitors_are_sent_to_sign_in(console: ConsoleWorld, path: str) -> None:
    await assert_sign_in_required(console, path)


async def test_the_home_page_shows_the_goal_with_its_chart_and_table(world: ConsoleWorld) -> None:
    html = await (await world.client.get("/console/")).text()
    assert_safe(html)
    assert (cell(html, "goal-reached"), cell(html, "goal-target")) == ("4", "200")
    assert "(2&nbsp;%)" in html
    assert '<svg class="goal-chart"' in html and 'aria-labelledby="goal-chart-title goal-chart-desc"' in html
    assert "Companies reached since the start, per month, against the target of 200" in html
    assert "Jan 2026: 2 companies reached since the start" in html  # a point's tooltip
    assert re.search(r"Jun 2026</th><td class=\"number\">1</td>\s*<td class=\"number\">1</td><td class=\"number\">4",
                     html)
    assert 'id="notes"' in html  # the intake search is still there


async def test_the_outcomes_page_shows_the_figures_of_the_period(world: ConsoleWorld) -> None:
    response = await world.client.get("/console/outcomes")  # this year so far: 1 January to 15 July 2026
    assert response.status == 200
    html = await response.text()
    assert_safe(html)
    assert 'value="2026-01-01"' in html and 'value="2026-07-15"' in html
    assert [cell(html, i) for i in ("figure-reached", "figure-new", "figure-requests")] == ["4", "4", "6"]
    assert cell(html, "figure-to-date") == "4 of 200"
    assert row(html, "facility_referral") == ["Referral to a facility", "2", "2"]
    assert row(html, "advisor_intake") == ["Advisor intake", "1", "1"]
    assert row(html, "lab_space") == ["Lab space", "1", "1"]
    assert row(html, "flemingsberg") == ["Flemingsberg", "2", "2"]
    assert row(html, "hagastaden") == ["Hagastaden/Solna", "1", "1"]
    assert row(html, "vecura-gmp") == ["Vecura", "facility", "Flemingsberg", "2", "2"]
    assert row(html, "gone-entry") == ["gone-entry", "unknown", "Entry no longer in the catalogue", "1", "1"]
    assert row(html, "in_progress") == ["In progress", "2"]
    assert "/console/outcomes/report?from=2026-01-01&amp;to=2026-07-15&amp;by=month&amp;format=xlsx" in html


async def test_weeks_are_stockholms(world: ConsoleWorld) -> None:
    html = await (await world.client.get("/console/outcomes?from=2026-03-23&to=2026-04-05&by=week")).text()
    assert re.search(r"week of 30 Mar 2026</th><td class=\"number\">1</td>", html)
    assert re.search(r"week of 23 Mar 2026</th><td class=\"number\">0</td>", html)
    assert cell(html, "figure-reached") == "1"


@pytest.mark.parametrize("query", ["from=2026-02-01&to=2026-01-01", "from=soon", "by=day"])
async def test_a_period_that_cannot_be_shown_is_a_400(world: ConsoleWorld, query: str) -> None:
    response = await world.client.get(f"/console/outcomes?{query}")
    assert response.status == 400
    assert "cannot be shown" in await response.text()
    assert (await world.client.get(f"/console/outcomes/report?{query}")).status == 400


async def test_the_downloads_are_the_report_of_the_period(world: ConsoleWorld) -> None:
    response = await world.client.get("/console/outcomes/report?from=2026-01-01&to=2026-12-31&format=xlsx")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="outcomes-2026-01-01-to-2026-12-31.xlsx"')
    workbook = load_workbook(io.BytesIO(await response.read()))
    indicators = {r[0]: r[2] for r in workbook["indicators"].iter_rows(min_row=2, values_only=True)}
    assert (indicators["Companies reached"], indicators["New companies"]) == (4, 4)
    response = await world.client.get("/console/outcomes/report?from=2026-01-01&to=2026-12-31&format=csv")
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(await response.read())) as archive:
        assert "forms_of_support.csv" in archive.namelist()
        assert "Lab space,lab_space,1,1" in archive.read("forms_of_support.csv").decode("utf-8")
    assert (await world.client.get("/console/outcomes/report?format=pdf")).status == 400


async def test_companies_are_listed_and_searched(world: ConsoleWorld) -> None:
    html = await (await world.client.get("/console/companies")).text()
    assert_safe(html)
    names = re.findall(r'<a href="/console/companies/\d+">([^<]+)</a>', html)
    assert names == ["Alpha AB", "Beta AB", "Delta AB", "Epsilon AB", "Gamma AB"]
    assert "5 companies." in html
    html = await (await world.client.get("/console/companies?q=556677")).text()
    assert re.findall(r'<a href="/console/companies/\d+">([^<]+)</a>', html) == ["Gamma AB"]


async def test_a_company_page_shows_its_requests_and_intakes(world: ConsoleWorld) -> None:
    alpha = world.store.get(world.history.references["r1"]).company_id
    html = await (await world.client.get(f"/console/companies/{alpha}")).text()
    assert_safe(html)
    for name in ("r1", "r2"):
        assert f'href="/console/requests/{world.history.references[name]}"' in html
    assert "556036-0793" in html and 'href="/console/flagged/conv-r1"' in html
    beta = world.store.get(world.history.references["r3"]).company_id
    html = await (await world.client.get(f"/console/companies/{beta}")).text()
    assert "Advisor intake" in html and "of which 1 advisor intake)" in html
    assert (await world.client.get("/console/companies/99999")).status == 404
    assert (await world.client.get("/console/companies/abc")).status == 404


async def test_a_company_name_is_shown_as_text(world: ConsoleWorld) -> None:
    world.store.create(make_draft(world.store.clock, company_name="<script>alert(1)</script> AB", org_number=None),
                       "form-markup")
    html = await (await world.client.get("/console/companies?q=script")).text()
    assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; AB" in html


async def test_merging_two_records_counts_one_company(world: ConsoleWorld) -> None:
    alpha = world.store.get(world.history.references["r1"]).company_id
    beta = world.store.get(world.history.references["r3"]).company_id
    refused = await world.post_form(f"/console/companies/{alpha}/merge", {"other": str(beta)}, csrf=False)
    assert refused.status == 403
    response = await world.post_form(f"/console/companies/{alpha}/merge", {"other": str(beta)})
    assert response.status == 303 and response.headers["Location"] == f"/console/companies/{alpha}"
    html = await (await world.client.get(f"/console/companies/{alpha}")).text()
    assert f"Company {beta} was merged into this one." in html
    assert f'href="/console/requests/{world.history.references["r3"]}"' in html
    html = await (await world.client.get("/console/outcomes")).text()
    assert cell(html, "figure-reached") == "3"
    assert world.store.get(world.history.references["r3"]).company_id == alpha


async def test_a_merge_the_store_refuses_is_explained(world: ConsoleWorld) -> None:
    alpha = world.store.get(world.history.references["r1"]).company_id
    gamma = world.store.get(world.history.references["r4"]).company_id
    response = await world.post_form(f"/console/companies/{alpha}/merge", {"other": str(gamma)})
    assert response.status == 400
    assert "different organisation numbers" in await response.text()
    assert (await world.post_form(f"/console/companies/{alpha}/merge", {"other": "x1"})).status == 400
    assert (await world.post_form(f"/console/companies/{alpha}/merge", {"other": "99999"})).status == 404
    assert world.store.get(world.history.references["r4"]).company_id == gamma
