"""``navigator bench-api``: latency and throughput of ``GET /api/search`` over HTTP.

Starts the Navigator service alone (``navigator serve`` on a free port; the Rasa server is not
needed) on a scratch request database, creates a reader token there, and sends varied, realistic
needs: first one request at a time, then from several concurrent clients. Every request must answer
200 with hits; the report is a Markdown table of p50 and p95 latency and requests per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from navigator.launcher import LaunchError, _stop, _wait_healthy, free_port
from navigator.settings import PROJECT_ROOT, Settings

# Needs as companies write them, some with a filter; cycled so that every client sends a varied mix.
NEEDS: tuple[tuple[str, dict[str, str]], ...] = (
    ("We need GMP manufacturing of a lentiviral vector for a phase 1 trial", {}),
    ("cryo-EM structure of our membrane protein", {}),
    ("flow cytometry sorting of immune cells", {"site": "flemingsberg"}),
    ("single cell RNA sequencing of tumour biopsies", {}),
    ("we want to test our medical device with patients at a hospital", {}),
    ("proteomics and mass spectrometry of plasma samples", {}),
    ("lab space for a small biotech start-up near Karolinska", {"type": "facility"}),
    ("preclinical MRI and PET imaging of mice", {}),
    ("funding for a first prototype of a diagnostic test", {"type": "programme"}),
    ("vi behöver flödescytometri i Flemingsberg", {}),
    ("biobank samples with clinical data for biomarker validation", {}),
    ("who can help us plan a clinical trial of a new antibiotic?", {"type": "expert"}),
    ("high-content imaging screen of a compound library on organoids", {"site": "hagastaden"}),
    ("long-read sequencing of bacterial genomes", {}),
    ("help with regulatory strategy and CE marking of software as a medical device", {}),
    ("cell therapy process development and quality control assays", {"site": "flemingsberg"}),
)


@dataclass(frozen=True)
class LoadStats:
    """One measurement.

    Attributes:
        clients: how many clients sent requests at the same time.
        requests: how many requests were timed.
        p50_ms, p95_ms: latency percentiles in milliseconds (from sending to the whole body read).
        per_second: requests answered per second of wall-clock time.
    """

    clients: int
    requests: int
    p50_ms: float
    p95_ms: float
    per_second: float


def load_stats(clients: int, latencies: list[float], elapsed: float) -> LoadStats:
    """Summarise latencies (seconds) measured over ``elapsed`` seconds.

    Raises:
        ValueError: for no latencies or a non-positive elapsed time.
    """
    if not latencies or elapsed <= 0:
        raise ValueError("a measurement needs at least one latency and a positive elapsed time")
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return LoadStats(clients, len(ordered), statistics.median(ordered) * 1000, p95 * 1000,
                     len(ordered) / elapsed)


def format_report(rows: list[LoadStats]) -> str:
    """The Markdown table of the measurements."""
    lines = ["| clients | requests | p50 (ms) | p95 (ms) | requests/s |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.clients} | {row.requests} | {row.p50_ms:.0f} | {row.p95_ms:.0f} | "
                     f"{row.per_second:.1f} |")
    return "\n".join(lines)


def run_api_benchmark(settings: Settings, *, sequential: int = 100, clients: int = 20,
                      per_client: int = 20) -> str:
    """Start the service on a scratch database, measure ``/api/search``, stop it, and return a Markdown report.

    Args:
        settings: the configuration (index, model) the service runs with; its databases are replaced.
        sequential: requests sent one at a time.
        clients: concurrent clients in the second measurement.
        per_client: requests each concurrent client sends, one after the other.

    Raises:
        LaunchError: when the service does not start.
        RuntimeError: when a search does not answer 200 with hits.
    """
    with tempfile.TemporaryDirectory() as folder, _serving(settings, Path(folder)) as (url, token):
        rows = [asyncio.run(_measure(url, token, 1, sequential)),
                asyncio.run(_measure(url, token, clients, per_client))]
    return "\n".join([
        f"`GET /api/search` ({len(NEEDS)} needs in rotation, some with a type or site filter; limit 10), "
        "over HTTP on 127.0.0.1:",
        "",
        format_report(rows),
    ])


@contextlib.contextmanager
def _serving(settings: Settings, folder: Path) -> Iterator[tuple[str, str]]:
    """The service on a free port with a scratch database in ``folder``; yields its URL and a reader token."""
    from support_requests.store import RequestStore
    from support_requests.tokens import TokenStore

    database_url = f"sqlite:///{folder / 'requests.db'}"
    with RequestStore.from_url(database_url) as store:
        token = TokenStore(store.engine).create("bench", "reader")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "NAVIGATOR_DATABASE_URL": database_url, "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{folder / 'tracker.db'}",
           "NAVIGATOR_INDEX_DIR": str(settings.index_dir), "NAVIGATOR_KNOWLEDGE_DIR": str(settings.knowledge_dir),
           # The console's session key, if the service generates one, stays in the scratch folder too.
           "NAVIGATOR_SESSION_KEY_FILE": str(folder / "session.key")}
    for name in ("NAVIGATOR_SMTP_HOST", "NAVIGATOR_WEBHOOK_URL", "NAVIGATOR_WEBHOOK_SECRET"):
        env.pop(name, None)  # a benchmark sends no notifications anywhere
    log = folder / "service.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "navigator.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT)
    try:
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/health", process, "the Navigator service", log, 300.0)
        except LaunchError:
            sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-4000:])
            raise
        yield f"http://127.0.0.1:{port}", token
    finally:
        _stop(process)


async def _search(session: aiohttp.ClientSession, url: str, number: int) -> float:
    need, filters = NEEDS[number % len(NEEDS)]
    started = time.perf_counter()
    async with session.get(f"{url}/api/search", params={"q": need, "limit": "10", **filters}) as response:
        body = await response.json()
    elapsed = time.perf_counter() - started
    if response.status != 200 or not body.get("hits"):
        raise RuntimeError(f"/api/search answered {response.status} for {need!r}: {body}")
    return elapsed


async def _client(session: aiohttp.ClientSession, url: str, start: int, count: int) -> list[float]:
    return [await _search(session, url, start + number) for number in range(count)]


async def _measure(url: str, token: str, clients: int, per_client: int) -> LoadStats:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=300)) as session:
        await _client(session, url, 0, min(len(NEEDS), 8))  # warm-up: connections, caches, the model's first calls
        started = time.perf_counter()
        results = await asyncio.gather(*(_client(session, url, index * 7, per_client) for index in range(clients)))
        elapsed = time.perf_counter() - started
    return load_stats(clients, [latency for result in results for latency in result], elapsed)
