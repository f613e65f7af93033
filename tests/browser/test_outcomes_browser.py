"""The programme manager's pages in a real browser, on seeded histories with known answers: the home page's goal
and its waiting requests, /console/outcomes (figures, the chart over time, the funnel, the breakdowns, the
response times and the report's downloads), the companies with their merge, and the queue's waiting flag and
filter. The same pages work with JavaScript turned off, and a company's name with markup is shown as text.

Chromium drives the service built in this process on a fake clock (tests/browser/served_console.py), so the
figures do not depend on the day the tests run. The histories are those of the data-layer and page tests:
tests/support_requests/outcome_history.py (companies reached), response_history.py (response times and waiting
requests) and funnel_history.py (the funnel). Screenshots go to ``var/artifacts/screenshots/<test name>.png``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from index.text import TextProcessor
from tests.browser.served_console import ServedConsole, served_console
from tests.fakes import SAMPLE, write_catalogue
from tests.support_requests.funnel_history import TOTAL, WEEKS, seed_funnel_requests, seed_tracker
from tests.support_requests.helpers import make_draft
from tests.support_requests.outcome_history import History, seed_history
from tests.support_requests.response_history import at, seed_responses

pytestmark = [pytest.mark.integration, pytest.mark.browser]

USERNAME = "eva"
PASSWORD = "a long browser passphrase"
MARKUP = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture
def console(tmp_path: Path, processor: TextProcessor) -> Iterator[ServedConsole]:
    """The service on the sample catalogue, an empty request database and a fake clock, with eva's account."""
    knowledge = write_catalogue(tmp_path / "knowledge", SAMPLE)
    with served_console(tmp_path, knowledge, processor, NAVIGATOR_LAB_SPACE_ENTRIES="flow-biomedicum") as served:
        served.accounts.add(USERNAME, "Eva Ek", PASSWORD)
        yield served


@pytest.fixture
def service_url(console: ServedConsole) -> str:
    """The ``page`` fixture's base URL (tests/browser/conftest.py): this module's service, not the stack."""
    return console.url


@pytest.fixture
def history(console: ServedConsole) -> History:
    """The companies-reached history (r1 to r7); the clock stands at 15 July 2026."""
    return seed_history(console.store, console.clock)


def sign_in(page: Page, path: str) -> None:
    """Open ``path``, sign in as eva on the page it sends to, and arrive at ``path``."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def cells(row: Locator) -> list[str]:
    """The texts of a table row's header and data cells, trimmed, with no-break spaces as spaces."""
    return [text.replace("\xa0", " ").strip() for text in row.locator("th, td").all_inner_texts()]


def keyed_row(page: Page, key: str) -> list[str]:
    return cells(page.locator(f'tr[data-key="{key}"]'))


def company_id(console: ServedConsole, reference: str) -> int:
    return console.store.get(reference).company_id


def csp_violations(console_messages: list[str]) -> list[str]:
    return [m for m in console_messages if "Content Security Policy" in m or "Refused to" in m]


def test_the_home_page_shows_the_goal_with_its_chart_and_numbers(page: Page, page_console: list[str],
                                                                 history: History) -> None:
    sign_in(page, "/console/")
    expect(page.locator("#goal-reached")).to_have_text("4")
    expect(page.locator("#goal-target")).to_have_text("200")
    expect(page.locator("svg.goal-bar")).to_have_attribute("aria-label", "2 per cent of the target")
    chart = page.locator("svg.goal-chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("#goal-chart-title")).to_have_text(
        "Companies reached since the start, per month, against the target of 200")
    expect(chart.locator("circle")).to_have_count(12)  # the last twelve months: August 2025 to July 2026
    expect(chart.locator("circle title").nth(5)).to_have_text("Jan 2026: 2 companies reached since the start")
    expect(chart.locator("text", has_text="Target 200")).to_be_visible()
    # The chart's numbers are a table beside it, folded away until asked for.
    table = page.locator("details.chart-data table.goal-table")
    expect(table).to_be_hidden()
    page.click("details.chart-data summary")
    expect(table).to_be_visible()
    june = table.locator("tbody tr", has_text="Jun 2026")
    assert cells(june) == ["Jun 2026", "1", "1", "4"]
    # Still new or assigned since January: Beta's intake r3 (new) and Gamma's r4 (assigned), the oldest first.
    expect(page.locator("#waiting-total")).to_have_text("2")
    waiting = page.locator("#waiting-table tbody tr").evaluate_all("rows => rows.map(row => row.dataset.reference)")
    assert waiting == [history.references["r3"], history.references["r4"]]
    assert csp_violations(page_console) == []


def test_the_outcomes_page_shows_the_period_and_changes_it(page: Page, page_console: list[str],
                                                          history: History) -> None:
    sign_in(page, "/console/outcomes")  # this year so far: 1 January to 15 July 2026
    expect(page.locator("#from")).to_have_value("2026-01-01")
    expect(page.locator("#to")).to_have_value("2026-07-15")
    assert [page.locator(f"#figure-{name}").inner_text() for name in ("reached", "new", "requests")] == [
        "4", "4", "6"]
    expect(page.locator("#figure-to-date")).to_have_text("4 of 200")
    assert keyed_row(page, "facility_referral") == ["Referral to a facility", "2", "2"]
    assert keyed_row(page, "lab_space") == ["Lab space", "1", "1"]
    assert keyed_row(page, "hagastaden") == ["Hagastaden/Solna", "1", "1"]
    assert keyed_row(page, "vecura-gmp") == ["Vecura", "facility", "Flemingsberg", "2", "2"]
    assert keyed_row(page, "gone-entry") == ["gone-entry", "unknown", "Entry no longer in the catalogue", "1", "1"]
    assert keyed_row(page, "in_progress") == ["In progress", "2"]

    # The chart over time is SVG with a title, one point per month, and the same numbers in a table beside it.
    over_time = page.locator("section", has=page.locator("#chart-heading"))
    chart = over_time.locator("svg.goal-chart")
    expect(chart.locator("#outcome-chart-title")).to_have_text(
        "Companies reached since the start, per month, against the target of 200")
    expect(chart.locator("circle")).to_have_count(7)
    rows = over_time.locator("table.goal-table tbody tr")
    expect(rows).to_have_count(7)
    assert cells(rows.nth(0)) == ["Jan 2026", "2", "2", "2"]
    chart_box, table_box = chart.bounding_box(), over_time.locator("table.goal-table").bounding_box()
    assert table_box["x"] >= chart_box["x"] + chart_box["width"] - 1  # beside the chart, at 1280 pixels

    # Weeks of Stockholm, chosen with the form: Delta is reached in the week of 30 March, not the week before.
    page.fill("#from", "2026-03-23")
    page.fill("#to", "2026-04-05")
    page.select_option("#by", "week")
    page.click(".insights-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"from=2026-03-23&to=2026-04-05&by=week"))
    expect(page.locator("#figure-reached")).to_have_text("1")
    weeks = over_time.locator("table.goal-table tbody tr")
    assert [cells(weeks.nth(i)) for i in range(2)] == [["week of 23 Mar 2026", "0", "0", "2"],
                                                     ["week of 30 Mar 2026", "1", "1", "3"]]
    assert csp_violations(page_console) == []


def test_the_report_downloads_are_the_period_s_workbook_and_csv_files(page: Page, history: History,
                                                                       tmp_path: Path) -> None:
    sign_in(page, "/console/outcomes?from=2026-01-01&to=2026-12-31&by=month")
    with page.expect_download() as started:
        page.click("text=Excel workbook (XLSX)")
    download = started.value
    assert download.suggested_filename == "outcomes-2026-01-01-to-2026-12-31.xlsx"
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    indicators = {r[0]: r[2] for r in workbook["indicators"].iter_rows(min_row=2, values_only=True)}
    assert (indicators["Companies reached"], indicators["New companies"]) == (4, 4)
    forms = {r[1]: r[2:4] for r in workbook["forms_of_support"].iter_rows(min_row=2, values_only=True)}
    assert forms["lab_space"] == (1, 1)

    with page.expect_download() as started:
        page.click("text=CSV files (zip)")
    with zipfile.ZipFile(io.BytesIO(Path(started.value.path()).read_bytes())) as archive:
        assert "Lab space,lab_space,1,1" in archive.read("forms_of_support.csv").decode("utf-8")


def test_the_funnel_is_a_chart_with_its_weekly_table(page: Page, console: ServedConsole) -> None:
    seed_funnel_requests(console.store, console.clock)
    seed_tracker(console.settings.tracker_db_url)
    sign_in(page, "/console/outcomes?from=2026-03-23&to=2026-04-05&by=week")
    chart = page.locator("svg.funnel-chart")
    expect(chart).to_have_attribute("aria-labelledby", "funnel-chart-title funnel-chart-desc")
    expect(chart.locator("#funnel-chart-title")).to_have_text(
        "From a conversation to a completed request, 2026-03-23 to 2026-04-05")
    expect(chart.locator("#funnel-chart-desc")).to_contain_text("Request opened: 5 (83% of the conversations)")
    bars = chart.locator("g")
    expect(bars).to_have_count(6)
    expect(bars.nth(4).locator("title")).to_have_text("Request in progress: 2, 40% of the step before")
    for start, counts in WEEKS.items():
        assert keyed_row(page, f"week-{start.isoformat()}") == [f"week of {start:%d %b %Y}", *map(str, counts)]
    assert keyed_row(page, "funnel-total") == ["The period", *map(str, TOTAL)]
    expect(page.locator("#funnel-state")).to_have_count(0)


def test_waiting_requests_are_listed_flagged_and_filtered(page: Page, console: ServedConsole) -> None:
    references = seed_responses(console.store, console.clock)
    names = {reference: name for name, reference in references.items()}
    console.clock.now = at(2026, 4, 14, 12, 0)  # after Easter: F and H have waited 6 working days, I 7
    sign_in(page, "/console/")
    expect(page.locator("#waiting-total")).to_have_text("3")
    listed = page.locator("#waiting-table tbody tr")
    assert [names[r] for r in listed.evaluate_all("rows => rows.map(row => row.dataset.reference)")] == [
        "I", "H", "F"]
    assert [cells(listed.nth(i))[-1] for i in range(3)] == ["7", "6", "6"]

    page.click("text=Every waiting request in the queue")
    expect(page).to_have_url(re.compile(r"/console/requests\?waiting=1$"))
    expect(page.locator('#queue-filters input[name="waiting"]')).to_be_checked()
    queue = page.locator("table.queue tbody tr")
    expect(queue).to_have_count(3)
    assert {names[queue.nth(i).locator("td a").inner_text()]: queue.nth(i).locator(".flag-waiting").inner_text()
            for i in range(3)} == {"I": "waiting 7 working days", "H": "waiting 6 working days",
                                   "F": "waiting 6 working days"}

    page.uncheck('#queue-filters input[name="waiting"]')
    page.click("#queue-filters button[type=submit]")
    expect(queue).to_have_count(len(references))
    flagged = page.locator("table.queue tbody tr", has=page.locator(".flag-waiting"))
    expect(flagged).to_have_count(3)


def test_the_response_times_per_entry_and_per_advisor(page: Page, console: ServedConsole) -> None:
    seed_responses(console.store, console.clock)  # the clock ends on 1 February 2027
    sign_in(page, "/console/outcomes?from=2026-01-01&to=2026-12-31&by=month")
    # 8 companies' requests, 4 acted on (median 18 h, 90th percentile 91.2 h), 2 handed over after 168 h.
    assert keyed_row(page, "response-by-entry:all") == ["All requests", "8", "4", "18.0 h", "3.8 days", "2",
                                                        "7.0 days", "7.0 days"]
    assert keyed_row(page, "response-by-entry:vecura-gmp")[1:5] == ["2", "2", "2.8 days", "4.5 days"]
    assert keyed_row(page, "response-by-advisor:eva")[1:5] == ["3", "3", "24.0 h", "4.2 days"]
    assert keyed_row(page, "response-by-advisor:olle")[1:5] == ["1", "1", "12.0 h", "12.0 h"]


def test_two_records_of_one_company_are_merged_in_the_browser(page: Page, console: ServedConsole,
                                                               history: History) -> None:
    alpha = company_id(console, history.references["r1"])
    beta = company_id(console, history.references["r3"])
    sign_in(page, "/console/companies")
    expect(page.locator("p[role=status]")).to_have_text("5 companies.")
    expect(page.locator("#companies tbody tr")).to_have_count(5)
    page.fill("#q", "556677")
    page.click(".insights-filters button[type=submit]")
    expect(page.locator("#companies tbody a")).to_have_text(["Gamma AB"])

    page.goto("/console/companies")
    page.click("#companies >> text=Alpha AB")
    expect(page).to_have_url(re.compile(rf"/console/companies/{alpha}$"))
    expect(page.locator("#company-requests tbody tr")).to_have_count(2)  # r1 and r2, one company
    page.fill("#other", str(beta))
    page.click("text=Merge into Alpha AB")
    expect(page).to_have_url(re.compile(rf"/console/companies/{alpha}$"))
    expect(page.locator(".flash")).to_contain_text(f"Company {beta} was merged")
    expect(page.locator("#company-requests")).to_contain_text(history.references["r3"])
    expect(page.locator("#company-requests tbody tr")).to_have_count(3)

    page.click("nav.mainnav >> text=Companies")
    expect(page.locator("p[role=status]")).to_have_text("4 companies.")
    expect(page.locator("#companies tbody a", has_text="Beta AB")).to_have_count(0)
    page.goto(f"/console/companies/{beta}")  # the other record stays, marked as merged
    expect(page.locator(f'a[href="/console/companies/{alpha}"]')).to_be_visible()
    expect(page.locator("#other")).to_have_count(0)
    page.click("nav.mainnav >> text=Outcomes")
    expect(page.locator("#figure-reached")).to_have_text("3")

    # Records with different organisation numbers are refused, with the reason, and nothing moves.
    gamma = company_id(console, history.references["r4"])
    page.goto(f"/console/companies/{alpha}")
    page.fill("#other", str(gamma))
    page.click("text=Merge into Alpha AB")
    expect(page.locator("#merge-error")).to_be_visible()
    assert company_id(console, history.references["r4"]) == gamma


def test_a_company_s_markup_is_shown_as_text(page: Page, page_console: list[str], console: ServedConsole) -> None:
    name = f"Acme {MARKUP} AB"
    console.clock.now = at(2026, 3, 2, 9, 0)
    reference = console.store.create(make_draft(console.clock, company_name=name, org_number=None),
                                     "form-markup").reference
    console.clock.now = at(2026, 3, 20, 9, 0)  # and it has waited too long: the home page lists it
    sign_in(page, "/console/companies")
    link = page.locator("#companies tbody a").first
    expect(link).to_have_text(name)
    link.click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("button", has_text="Merge into")).to_have_text(f"Merge into {name}")
    page.goto("/console/requests?waiting=1")
    expect(page.locator("table.queue tbody tr", has_text=reference)).to_contain_text(name)
    for path in ("/console/", "/console/outcomes"):
        page.goto(path)
        expect(page.locator("h1").first).to_be_visible()
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("main script, main img").count() == 0
    assert csp_violations(page_console) == []


def test_the_pages_work_without_javascript(browser: Browser, console: ServedConsole, history: History) -> None:
    context = browser.new_context(base_url=console.url, java_script_enabled=False, viewport={"width": 1280,
                                                                                             "height": 800})
    try:
        page = context.new_page()
        sign_in(page, "/console/outcomes")
        expect(page.locator("#figure-reached")).to_have_text("4")
        expect(page.locator("svg.goal-chart")).to_be_visible()
        page.fill("#from", "2026-03-23")
        page.fill("#to", "2026-04-05")
        page.select_option("#by", "week")
        page.click(".insights-filters button[type=submit]")
        expect(page.locator("#figure-reached")).to_have_text("1")
        page.goto("/console/")
        expect(page.locator("#goal-reached")).to_have_text("4")
        page.click("details.chart-data summary")  # <details> opens without script
        expect(page.locator("table.goal-table")).to_be_visible()
        alpha = company_id(console, history.references["r1"])
        beta = company_id(console, history.references["r3"])
        page.goto(f"/console/companies/{alpha}")
        page.fill("#other", str(beta))
        page.click("text=Merge into Alpha AB")
        expect(page.locator(".flash")).to_contain_text(f"Company {beta} was merged")
        page.goto("/console/requests")
        page.check('#queue-filters input[name="waiting"]')
        page.click("#queue-filters button[type=submit]")
        expect(page).to_have_url(re.compile(r"waiting=1"))
    finally:
        context.close()
