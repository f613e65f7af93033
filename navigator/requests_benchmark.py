"""``navigator bench-requests``: support requests created per second by concurrent writers.

Each writer is a thread creating requests through :class:`RequestStore`, each request with its own
idempotency key, as concurrent form submissions do. SQLite runs on a fresh file; PostgreSQL in a fresh
schema that is dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from support_requests.model import Consent, RequestDraft
from support_requests.store import RequestStore

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _draft(number: int) -> RequestDraft:
    return RequestDraft(
        company_name=f"Benchmark Bio {number} AB", contact_person="Sam Bench", email=f"bench{number}@example.org",
        need_summary="GMP manufacturing of a viral vector for a phase 1 trial.", entry_ids=["vecura-gmp"],
        routed_contact="contact-vecura", routed_contact_email="vecura-business@example.org", channel="rest",
        conversation_id=f"bench-{number}",
        consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version="2026-11"))


def measure(url: str, writers: int, per_writer: int) -> float:
    """Requests created per second by ``writers`` threads creating ``per_writer`` requests each."""
    store = RequestStore.from_url(url)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for number in range(per_writer):
                store.create(_draft(writer * per_writer + number), idempotency_key=uuid.uuid4().hex)
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    created = len(store.list())
    store.close()
    if errors:
        raise errors[0]
    if created != writers * per_writer:
        raise RuntimeError(f"expected {writers * per_writer} requests, found {created}")
    return created / elapsed


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def _postgres(base_url: str) -> Iterator[str]:
    schema = f"nav_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def run_requests_benchmark(postgres_url: str = DEFAULT_POSTGRES_URL, writers: int = 10, per_writer: int = 50) -> str:
    """A Markdown table of creation throughput on SQLite and PostgreSQL."""
    databases: list[tuple[str, Callable[[], object]]] = [("SQLite (file, WAL)", _sqlite),
                                                         ("PostgreSQL", lambda: _postgres(postgres_url))]
    lines = [f"{writers} concurrent writers, {per_writer} requests each, every request with its outbox rows.", "",
             "| database | requests | requests/s |", "|---|---|---|"]
    for name, database in databases:
        with database() as url:
            rate = measure(url, writers, per_writer)
        lines.append(f"| {name} | {writers * per_writer} | {rate:.0f} |")
    return "\n".join(lines)
