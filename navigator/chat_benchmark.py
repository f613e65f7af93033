"""``navigator bench-chat``: end-to-end latency and throughput of the assistant over Rasa's REST channel.

A greeting turn is answered by Rasa alone (the floor); a search turn also calls the Navigator service,
which encodes the need and searches the index. Both are measured one conversation at a time and with
20 conversations at once, in one run against one pair of processes.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from navigator.launcher import free_port, running
from navigator.settings import PROJECT_ROOT, Settings

NEEDS = [
    "We need GMP manufacturing of a lentiviral vector for a phase 1 trial",
    "cryo-EM structure of our membrane protein",
    "flow cytometry sorting of immune cells in Flemingsberg",
    "single cell RNA sequencing of tumour biopsies",
    "we want to test our medical device with patients at a hospital",
    "proteomics and mass spectrometry of plasma samples",
    "lab space for a small biotech start-up near Karolinska",
    "preclinical MRI and PET imaging of mice",
]


@dataclass(frozen=True)
class TurnStats:
    turns: int
    p50_ms: float
    p95_ms: float
    per_second: float


def _stats(latencies: list[float], elapsed: float) -> TurnStats:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return TurnStats(len(latencies), statistics.median(latencies) * 1000, p95 * 1000, len(latencies) / elapsed)


async def _turn(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        response.raise_for_status()
        await response.json()
    return time.perf_counter() - started


async def _conversation(session, url: str, kind: str, turns: int, offset: int) -> list[float]:
    latencies = []
    for number in range(turns):
        # Every measured turn opens a new conversation, greeting and search alike, as both do in real use: the
        # two differ only by the work of the turn itself (a search against Rasa answering alone).
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        text = "hello" if kind == "greeting" else NEEDS[(offset + number) % len(NEEDS)]
        latencies.append(await _turn(session, url, sender, text))
    return latencies


async def _measure(url: str, kind: str, conversations: int, turns: int) -> TurnStats:
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _conversation(session, url, kind, 3, 0)  # warm-up
        started = time.perf_counter()
        results = await asyncio.gather(*(_conversation(session, url, kind, turns, i) for i in range(conversations)))
        elapsed = time.perf_counter() - started
    return _stats([latency for result in results for latency in result], elapsed)


def run_chat_benchmark(settings: Settings, *, sequential_turns: int = 60, concurrent: int = 20,
                       turns_each: int = 6) -> str:
    """Start the assistant on free ports, measure, stop it, and return a Markdown report."""
    model = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"
    with tempfile.TemporaryDirectory() as folder:
        # Every turn comes from this machine's address, faster than one client may send (bot/input_guard.py):
        # the benchmark measures the assistant, so the rate limits are off.
        isolated = replace(settings, database_url=f"sqlite:///{Path(folder) / 'requests.db'}",
                           tracker_db_url=f"sqlite:///{Path(folder) / 'tracker.db'}", sender_rate=None,
                           address_rate=None)
        with running(isolated, model=model, rasa_port=free_port(), service_port=free_port(),
                     run_dir=Path(folder) / "run") as stack:
            url = stack.rest_webhook
            rows = {}
            for kind in ("greeting", "search"):
                rows[(kind, 1)] = asyncio.run(_measure(url, kind, 1, sequential_turns))
                rows[(kind, concurrent)] = asyncio.run(_measure(url, kind, concurrent, turns_each))
    greeting_seq, search_seq = rows[("greeting", 1)], rows[("search", 1)]
    greeting_par, search_par = rows[("greeting", concurrent)], rows[("search", concurrent)]
    lines = [
        "| turn | conversations | turns | p50 (ms) | p95 (ms) | turns/s |",
        "|---|---|---|---|---|---|",
    ]
    for (kind, count), stats in rows.items():
        lines.append(f"| {kind} | {count} | {stats.turns} | {stats.p50_ms:.0f} | {stats.p95_ms:.0f} | "
                     f"{stats.per_second:.1f} |")
    lines += [
        "",
        f"search p95 / greeting p95: {search_seq.p95_ms / greeting_seq.p95_ms:.2f} one at a time, "
        f"{search_par.p95_ms / greeting_par.p95_ms:.2f} with {concurrent} conversations (goal: at most 2)",
        f"search throughput / greeting throughput with {concurrent} conversations: "
        f"{search_par.per_second / greeting_par.per_second:.2f} (goal: at least 0.7)",
    ]
    return "\n".join(lines)
