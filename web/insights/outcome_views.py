"""The programme manager's pages: companies reached against the target and their satisfaction
(``/console/outcomes``; the comments the companies wrote are shown here, to signed-in advisors only), the funder's
report as a download (``/console/outcomes/report``), and the companies with their manual merge
(``/console/companies``, ``/console/companies/{id}``).

Handlers read the query, run the database work in a worker thread and render a template extending
``console/base.html``; every page is for signed-in advisors. The home page's panel (:func:`home_goal`) is drawn
by the intake page (:mod:`web.console.search_views`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web

from support_requests.companies import CompanyError, CompanyNotFoundError
from support_requests.errors import StoreUnavailableError
from support_requests.funnel import STEPS
from support_requests.outcome_files import FORMATS, MEDIA_TYPES, file_name, write_report
from support_requests.outcome_report import Goal
from support_requests.outcomes import Granularity, OutcomeError, Period, local_day
from support_requests.response_times import WaitingList
from web.console.auth import (
    check_csrf,
    current_advisor,
    flash,
    page_context,
    require_advisor,
)
from web.console.view_helpers import error_page, form_text
from web.insights.funnel_chart import funnel_chart
from web.insights.goal_chart import GoalChart, goal_chart
from web.services import SERVICES_KEY

log = logging.getLogger(__name__)

COMPANIES_PER_PAGE = 50

COMMENTS_SHOWN = 200
"""The Outcomes page shows at most this many of the period's follow-up comments, newest first."""


@dataclass(frozen=True)
class OutcomeQuery:
    """What the outcomes page asks for: a period (Stockholm days) and the timeline's steps."""

    period: Period
    granularity: Granularity

    @classmethod
    def parse(cls, params: Mapping[str, str], today: dt.date) -> OutcomeQuery:
        """``from`` and ``to`` (ISO dates; default: the 1st of January of ``today``'s year to ``today``) and ``by``
        (``month`` or ``week``).

        Raises:
            OutcomeError: naming the parameter that cannot be used.
        """
        first = (params.get("from") or "").strip() or today.replace(month=1, day=1).isoformat()
        last = (params.get("to") or "").strip() or today.isoformat()
        by = (params.get("by") or "month").strip().lower()
        if by not in ("month", "week"):
            raise OutcomeError("by must be month or week")
        period = Period.parse(first, last)
        if (period.last - period.first).days > 366 * 10:
            raise OutcomeError("the period may be at most ten years long")
        return cls(period=period, granularity=Granularity(by))

    def query_string(self, **extra: str) -> str:
        from urllib.parse import urlencode

        return urlencode({"from": self.period.first.isoformat(), "to": self.period.last.isoformat(),
                          "by": self.granularity.value, **extra})


def add_routes(app: web.Application) -> None:
    """Add the outcome and company pages to ``app``."""
    app.router.add_get("/console/outcomes", outcomes_page, name="outcomes")
    app.router.add_get("/console/outcomes/report", report_download, name="outcomes_report")
    app.router.add_get("/console/companies", companies_page, name="companies")
    app.router.add_get("/console/companies/{company_id}", company_page, name="company")
    app.router.add_post("/console/companies/{company_id}/merge", merge_company, name="company_merge")


async def home_goal(request: web.Request) -> tuple[Goal | None, GoalChart | None]:
    """The home page's panel: companies reached against the target and the last twelve months, or
    ``(None, None)`` when the database cannot be reached (the page then says so and the search still works)."""
    try:
        goal = await asyncio.to_thread(request.app[SERVICES_KEY].outcomes.goal)
    except StoreUnavailableError as error:
        log.warning("the home page's goal cannot be shown: %s", type(error).__name__)
        return None, None
    return goal, goal_chart(goal.timeline, goal.target)


async def home_waiting(request: web.Request) -> WaitingList | None:
    """The home page's list of the requests waiting too long (the oldest first), or None when the database
    cannot be reached."""
    try:
        return await asyncio.to_thread(request.app[SERVICES_KEY].outcomes.waiting)
    except StoreUnavailableError as error:
        log.warning("the home page's waiting requests cannot be shown: %s", type(error).__name__)
        return None


@require_advisor
async def outcomes_page(request: web.Request) -> web.Response:
    """Companies reached in a period, over time, where companies drop off (the funnel per week), by form of
    support, site and entry, the response times, the companies' satisfaction with their comments, with the
    report's downloads."""
    outcomes = request.app[SERVICES_KEY].outcomes
    today = local_day(outcomes.clock())
    try:
        query = OutcomeQuery.parse(request.query, today)
    except OutcomeError as error:
        context = await page_context(request, report=None, chart=None, error=str(error), query=None,
                                     first=request.query.get("from", ""), last=request.query.get("to", ""),
                                     by="month")
        return aiohttp_jinja2.render_template("insights/outcomes.html", request, context, status=400)
    try:
        # The funnel reads the tracker store (a scan of its events) while the report reads the request database:
        # side by side, in worker threads, the page waits for the longest of them rather than their sum.
        report, funnel, comments = await asyncio.gather(
            asyncio.to_thread(outcomes.report, query.period, query.granularity),
            asyncio.to_thread(request.app[SERVICES_KEY].funnel.funnel, query.period),
            asyncio.to_thread(outcomes.satisfaction.comments, query.period.start, query.period.end, COMMENTS_SHOWN))
    except StoreUnavailableError as error:
        return await error_page(request, 503, "The request database cannot be reached", str(error))
    chart = goal_chart(report.timeline, report.definition.target, query.granularity)
    response_entries = [("all", "All requests", report.responses.overall)] + [
        (row.key, name, row) for name, row in report.response_entries]
    response_advisors = [(row.key, row.key, row) for row in report.responses.by_advisor]
    satisfaction_rows = [("all", "All answers", report.satisfaction.overall)] + [
        (row.key, name, row) for name, row in report.satisfaction_entries]
    entry_names = {entry_id: outcomes.entry_name(entry_id) for comment in comments for entry_id in comment.entry_ids}
    context = await page_context(request, report=report, chart=chart, error=None, query=query,
                                 response_entries=response_entries, response_advisors=response_advisors,
                                 satisfaction_rows=satisfaction_rows, comments=comments, comments_shown=COMMENTS_SHOWN,
                                 entry_names=entry_names,
                                 funnel=funnel, funnel_chart=funnel_chart(funnel.total), funnel_steps=STEPS,
                                 first=query.period.first.isoformat(), last=query.period.last.isoformat(),
                                 by=query.granularity.value, formats=FORMATS,
                                 table_names=[table.name for table in report.tables()])
    return aiohttp_jinja2.render_template("insights/outcomes.html", request, context)


@require_advisor
async def report_download(request: web.Request) -> web.Response:
    """The funder's report of the period as ``format=xlsx`` or ``csv`` (a zip of CSV files), the same file as
    ``navigator report`` writes."""
    outcomes = request.app[SERVICES_KEY].outcomes
    file_format = (request.query.get("format") or "xlsx").strip().lower()
    try:
        query = OutcomeQuery.parse(request.query, local_day(outcomes.clock()))
        if file_format not in FORMATS:
            raise OutcomeError("format must be xlsx or csv")
    except OutcomeError as error:
        return web.Response(status=400, text=f"The report was not made: {error}")
    try:
        report = await asyncio.to_thread(outcomes.report, query.period, query.granularity)
    except StoreUnavailableError as error:
        return web.Response(status=503, text=f"The request database cannot be reached: {error}")
    out = io.BytesIO()
    await asyncio.to_thread(write_report, report, file_format, out)
    advisor = await current_advisor(request)
    log.info("console: %s downloaded the report of %s as %s", advisor.username if advisor else "?", query.period,
             file_format)
    return web.Response(body=out.getvalue(), content_type=MEDIA_TYPES[file_format], headers={
        "Content-Disposition": f'attachment; filename="{file_name(report, file_format)}"'})


@require_advisor
async def companies_page(request: web.Request) -> web.Response:
    """The companies, by name, 50 to a page, with a search by name or organisation number."""
    search = (request.query.get("q") or "").strip()[:200]
    page_text = (request.query.get("page") or "1").strip()
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
    companies = request.app[SERVICES_KEY].companies
    try:
        found, total = await asyncio.to_thread(companies.list, search, limit=COMPANIES_PER_PAGE,
                                               offset=(page - 1) * COMPANIES_PER_PAGE)
    except StoreUnavailableError as error:
        return await error_page(request, 503, "The request database cannot be reached", str(error))
    pages = max(1, -(-total // COMPANIES_PER_PAGE))
    context = await page_context(request, companies=found, total=total, search=search, page=page, pages=pages)
    return aiohttp_jinja2.render_template("insights/companies.html", request, context)


@require_advisor
async def company_page(request: web.Request) -> web.Response:
    """One company: its names and number, its requests (the advisors' intakes among them) and conversations,
    and the form that merges another company into it."""
    return await _render_company(request, request.match_info["company_id"])


@require_advisor
async def merge_company(request: web.Request) -> web.StreamResponse:
    """Merge the company numbered in the form's ``other`` into this one; a refused merge re-renders the page with
    the reason (400) and changes nothing."""
    form = await request.post()
    await check_csrf(request, form)
    target = _company_id(request.match_info["company_id"])
    other_text = form_text(form, "other").strip()
    advisor = await current_advisor(request)
    if target is None:
        raise web.HTTPNotFound(text="No such company.")
    if not other_text.isdigit() or len(other_text) > 12:
        return await _render_company(request, str(target), error="Give the number of the company to merge in.",
                                     typed=other_text, status=400)
    companies = request.app[SERVICES_KEY].companies
    try:
        await asyncio.to_thread(companies.merge, int(other_text), target, advisor.username if advisor else "console")
    except CompanyError as error:
        return await _render_company(request, str(target), error=str(error), typed=other_text,
                                     status=404 if isinstance(error, CompanyNotFoundError) else 400)
    except StoreUnavailableError as error:
        return await error_page(request, 503, "The request database cannot be reached", str(error))
    log.info("console: %s merged company %s into company %s", advisor.username if advisor else "?", other_text,
             target)
    await flash(request, f"Company {other_text} was merged into this one.")
    raise web.HTTPSeeOther(f"/console/companies/{target}")


async def _render_company(request: web.Request, company_text: str, *, error: str | None = None, typed: str = "",
                          status: int = 200) -> web.Response:
    company_id = _company_id(company_text)
    companies = request.app[SERVICES_KEY].companies

    def load():
        company = companies.get(company_id)
        return company, companies.requests(company.id)

    try:
        if company_id is None:
            raise CompanyNotFoundError(company_text)
        company, requests = await asyncio.to_thread(load)
    except CompanyNotFoundError:
        return await error_page(request, 404, "No such company",
                                "No company has this number. The companies are listed at /console/companies.")
    except StoreUnavailableError as err:
        return await error_page(request, 503, "The request database cannot be reached", str(err))
    conversations = sorted({r.conversation_id for r in requests if r.conversation_id})
    context = await page_context(request, company=company, requests=requests, conversations=conversations,
                                 intakes=sum(1 for r in requests if r.is_intake), error=error, typed=typed)
    return aiohttp_jinja2.render_template("insights/company.html", request, context, status=status)


def _company_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 12 else None
