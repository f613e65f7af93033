"""The outcome pages' answer times on a large history, through the real aiohttp app with an advisor signed in.

It seeds :mod:`tests.web.large_history` (by default 5,000 companies, 20,000 requests over two years and 50,000
conversations, about 500,000 tracker events) into a scratch request database and tracker store, builds the
service with :func:`navigator.service.create_app` (the real catalogue; a hashing embedder, since no page timed
here searches), signs in, and asks each page ``repeats`` times after one warm-up request, reporting the median,
the 90th percentile and the slowest answer. Every answer must be a 200 with the page's own content (an error page
would be fast and wrong). Reference pages (a request's page, one page of the companies) give the console's usual
time in the same run.

Run it with ``.venv/bin/python -m tests.web.bench_outcomes`` (``--postgres`` also runs it on a throwaway
PostgreSQL server, ``--help`` for the sizes); it prints Markdown tables. The clock is fixed at
:data:`tests.web.large_history.NOW`, so the periods and the waiting list are the same on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

from index.build import build_index
from index.catalogue import load_catalogue
from index.engine import SearchEngine
from index.text import TextProcessor
from navigator.runtime import Runtime
from navigator.service import create_app
from navigator.settings import PROJECT_ROOT, Settings
from navigator.wiring import open_services
from support_requests.response_times import percentile
from support_requests.store import RequestStore
from support_requests.tables import RequestRow
from tests.fakes import HashingEmbedder
from tests.web.conftest import FAST_HASHER, PASSWORD, csrf_from
from tests.web.large_history import DEFAULT_SIZE, NOW, HistorySize, SeededHistory, seed_history


@dataclass(frozen=True)
class Page:
    """A page to time: its label, path, a piece of its HTML (or a byte prefix of a file) that proves it is the page
    and not an error, and a piece that must not be in it (a part of the page that could not be read)."""

    label: str
    path: str
    marker: str | bytes
    absent: str | None = None


@dataclass(frozen=True)
class PageTiming:
    """A page's answer times in milliseconds over the timed requests, and the answer's size."""

    page: Page
    times_ms: tuple[float, ...]
    size: int

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90(self) -> float:
        return percentile(self.times_ms, 0.9) or 0.0

    @property
    def slowest(self) -> float:
        return max(self.times_ms)


FUNNEL = 'id="funnel-chart-title"'
FUNNEL_MISSING = 'id="funnel-state"'


def pages(company_id: int, reference: str, companies_page: int) -> list[Page]:
    """The pages timed, with the period of each (the clock is at :data:`NOW`, Monday 30 November 2026);
    ``companies_page`` is a page in the middle of the companies' list."""
    return [
        Page("a request's page (reference)", f"/console/requests/{reference}", 'name="status"'),
        Page("companies, first page (reference)", "/console/companies", "/console/companies/"),
        Page("home: goal, 12-month chart, waiting list", "/console/", 'id="goal-reached"'),
        Page("outcomes, year to date (default)", "/console/outcomes", FUNNEL, absent=FUNNEL_MISSING),
        Page("outcomes, year 2025", "/console/outcomes?from=2025-01-01&to=2025-12-31", FUNNEL, absent=FUNNEL_MISSING),
        Page("outcomes, a quarter by week", "/console/outcomes?from=2026-07-01&to=2026-09-30&by=week",
             FUNNEL, absent=FUNNEL_MISSING),
        Page("outcomes, two years", "/console/outcomes?from=2024-12-01&to=2026-11-30", FUNNEL, absent=FUNNEL_MISSING),
        Page("companies, search by name", "/console/companies?q=nordic", "/console/companies/"),
        Page(f"companies, page {companies_page}", f"/console/companies?page={companies_page}", "/console/companies/"),
        Page("a company's page (most requests)", f"/console/companies/{company_id}", 'name="other"'),
        Page("queue, first page", "/console/requests", "/console/requests/"),
        Page("queue, waiting too long", "/console/requests?waiting=1", "/console/requests/"),
        Page("queue, status new", "/console/requests?status=new", "/console/requests/"),
        Page("report 2025, XLSX", "/console/outcomes/report?from=2025-01-01&to=2025-12-31&format=xlsx", b"PK"),
        Page("report 2025, CSV (zip)", "/console/outcomes/report?from=2025-01-01&to=2025-12-31&format=csv", b"PK"),
    ]


def bench_settings(folder: Path, database_url: str, tracker_url: str) -> Settings:
    """Settings for the benchmark's service: its scratch databases, a fresh session key, cookies over HTTP."""
    return Settings.from_env({
        "NAVIGATOR_DATABASE_URL": database_url, "NAVIGATOR_TRACKER_DB_URL": tracker_url,
        "NAVIGATOR_SESSION_SECRET": Fernet.generate_key().decode(), "NAVIGATOR_COOKIE_SECURE": "false",
        "NAVIGATOR_INDEX_DIR": str(folder / "index")})


def _analyse(url: str) -> None:
    """On PostgreSQL, gather the planner's statistics, as autovacuum does on a database in use (without them the
    first pages after a bulk load are planned blind); SQLite is left as Navigator leaves it."""
    engine = create_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


async def _time_pages(client: TestClient, wanted: Sequence[Page], repeats: int) -> list[PageTiming]:
    timings = []
    for page in wanted:
        samples, size = [], 0
        for attempt in range(repeats + 1):  # the first answer warms caches and is not counted
            started = time.perf_counter()
            response = await client.get(page.path, allow_redirects=False)
            body = await response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"{page.path} answered {response.status}")
            found = body.startswith(page.marker) if isinstance(page.marker, bytes) else (
                page.marker in body.decode("utf-8"))
            if found and page.absent is not None:
                found = page.absent not in body.decode("utf-8")
            if not found:
                raise RuntimeError(f"{page.path} is not the expected page (no {page.marker!r}, or {page.absent!r})")
            if attempt:
                samples.append(elapsed)
            size = len(body)
        timings.append(PageTiming(page, tuple(samples), size))
        print(f"{page.label}: median {timings[-1].median:.0f} ms", file=sys.stderr, flush=True)
    return timings


async def _sign_in(client: TestClient) -> None:
    token = csrf_from(await (await client.get("/console/sign-in")).text())
    response = await client.post("/console/sign-in", data={"username": "eva", "password": PASSWORD,
                                                           "next": "/console/", "csrf_token": token},
                                 allow_redirects=False)
    if response.status != 303:
        raise RuntimeError(f"signing in answered {response.status}")


def measure(database_url: str, tracker_url: str, folder: Path, *, size: HistorySize = DEFAULT_SIZE,
            repeats: int = 7) -> tuple[SeededHistory, float, list[PageTiming]]:
    """Seed the history into the two (new, empty) databases and time every page.

    Returns:
        What was seeded, the seconds seeding took, and the timings in the order of :func:`pages`.
    """
    catalogue = load_catalogue(PROJECT_ROOT / "knowledge")
    embedder, processor = HashingEmbedder(), TextProcessor()
    state, _ = build_index(catalogue, embedder, processor)
    engine = SearchEngine(state, embedder, processor)
    settings = bench_settings(folder, database_url, tracker_url)
    store = RequestStore.from_url(database_url)
    store.clock = lambda: NOW
    started = time.perf_counter()
    seeded = seed_history(store.engine, tracker_url, [entry.id for entry in catalogue.entries], size=size)
    seeding = time.perf_counter() - started
    for url in (database_url, tracker_url):
        _analyse(url)
    services = open_services(settings, runtime=Runtime(settings, catalogue, embedder, processor, engine, None),
                             store=store, password_hasher=FAST_HASHER)
    try:
        services.accounts.add("eva", "Eva Ek", PASSWORD, "advisor")
        with store.engine.connect() as connection:
            company_id = connection.execute(
                select(RequestRow.company_id).group_by(RequestRow.company_id)
                .order_by(func.count().desc(), RequestRow.company_id).limit(1)).scalar_one()
            reference = connection.execute(select(RequestRow.reference).order_by(RequestRow.id.desc())
                                           .limit(1)).scalar_one()

        async def run() -> list[PageTiming]:
            client = TestClient(TestServer(create_app(settings, services=services)))
            await client.start_server()
            try:
                await _sign_in(client)
                return await _time_pages(client, pages(company_id, reference, max(1, size.companies // 100)), repeats)
            finally:
                await client.close()

        return seeded, seeding, asyncio.run(run())
    finally:
        services.close()


def markdown(database: str, seeded: SeededHistory, seeding: float, timings: Sequence[PageTiming],
             repeats: int) -> str:
    """The timings as a Markdown table, with what was seeded."""
    lines = [f"**{database}**: {seeded.companies:,} companies ({seeded.companies_without_number:,} without an "
             f"organisation number, {seeded.merged_companies} merged into another), {seeded.requests:,} requests "
             f"({seeded.intakes:,} intakes; {seeded.history_rows:,} history rows, {seeded.notes:,} notes, "
             f"{seeded.entries:,} chosen entries), {seeded.conversations:,} conversations with {seeded.events:,} "
             f"tracker events; seeded in {seeding:.0f} s. Statuses now: "
             + ", ".join(f"{name} {count:,}" for name, count in seeded.status_counts.items()) + ".",
             "", f"Each page {repeats} times after a warm-up request; milliseconds.", "",
             "| page | median | p90 | max | answer (kB) |", "|---|---|---|---|---|"]
    for timing in timings:
        lines.append(f"| {timing.page.label} | {timing.median:.0f} | {timing.p90:.0f} | {timing.slowest:.0f} | "
                     f"{timing.size / 1024:.0f} |")
    return "\n".join(lines)


@contextlib.contextmanager
def _sqlite() -> Iterator[tuple[str, str, Path]]:
    with tempfile.TemporaryDirectory(prefix="navigator-bench-outcomes-") as name:
        folder = Path(name)
        yield f"sqlite:///{folder / 'requests.db'}", f"sqlite:///{folder / 'tracker.db'}", folder


@contextlib.contextmanager
def _postgres() -> Iterator[tuple[str, str, Path]]:
    from tests.servers import throwaway_postgres

    with throwaway_postgres() as server, tempfile.TemporaryDirectory(prefix="navigator-bench-outcomes-") as name:
        yield server.create_database(), server.create_database(), Path(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=HistorySize.companies)
    parser.add_argument("--requests", type=int, default=HistorySize.requests)
    parser.add_argument("--conversations", type=int, default=HistorySize.conversations)
    parser.add_argument("--repeats", type=int, default=7, help="timed requests per page (after one warm-up)")
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL server")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats takes at least 1")
    try:
        size = HistorySize(args.companies, args.requests, args.conversations)
    except ValueError as error:
        parser.error(str(error))
    databases = [("SQLite (files, WAL)", _sqlite)] + ([("PostgreSQL (throwaway server)", _postgres)]
                                                      if args.postgres else [])
    for name, database in databases:
        with database() as (database_url, tracker_url, folder):
            seeded, seeding, timings = measure(database_url, tracker_url, folder, size=size, repeats=args.repeats)
        print(markdown(name, seeded, seeding, timings, args.repeats), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
