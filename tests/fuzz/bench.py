"""``python -m tests.fuzz.bench`` (part of ``make bench``): at least 10,000 generated hostile messages against
``make run``'s pair, over Rasa's REST channel and the widget's socket.io channel, and the figures.

It starts its own Rasa server and Navigator service on free ports with fresh SQLite databases (as
tests/load/run.py's ``single_target``), with the input guard's default limits. The messages are every class of
tests/fuzz/strategies.py in turn (Hypothesis, from ``--seed``). So that the guard's rate limits drop none of them
(a dropped message gets no answer by design, docs/input-limits.md), each REST message has a sender of its own,
each socket.io session sends at most 2, and every 12 messages the clients move to a new loopback source address
(127.1.0.1, 127.1.0.2, ...): a message takes at most 4 tokens (2,000 characters), under the burst of 10 per
sender and 60 per address.

Printed: messages, server errors (HTTP 5xx, transport failures), failures logged (exceptions and errors in the
Rasa server's and the service's logs), empty replies, other problems (an apology for a failure, an oversized
message not refused), the Rasa server's resident memory before (after a warm-up) and after, and the time per
message. Exits 1 when anything is wrong or the memory grew by more
than 10%. The figures also go to ``--out`` as JSON, and the two logs beside it (``fuzz-rasa.log``,
``fuzz-service.log``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from navigator.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import ResponseNames
from tests.fuzz.client import Exchange, LogWatch, SocketioUser, Tally, rest_exchange
from tests.fuzz.strategies import generated_messages
from tests.load.run import single_target

MESSAGES_PER_ADDRESS = 12
MESSAGES_PER_SESSION = 2
WARM_UP = ("hello", "flow cytometry in Flemingsberg", "show more", "thanks", "GMP manufacturing of a vector",
           ("flow cytometry " * 134)[:2000])
"""Turns before the memory is read: the first turns of a new server load what they use, and the first message of
the maximum size grows the NLU's buffers once."""


def loopback(number: int, network: int = 1) -> str:
    """The ``number``-th loopback address of ``127.{network}.0.0/16`` (from .0.1)."""
    return f"127.{network}.{number // 250}.{number % 250 + 1}"


def rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def run_rest(rasa_url: str, messages: list[tuple[str, str]], workers: int) -> list[Exchange]:
    def one(numbered: tuple[int, tuple[str, str]]) -> Exchange:
        number, (label, text) = numbered
        return rest_exchange(rasa_url, f"fuzz-{uuid.uuid4().hex[:12]}", text, label,
                             source=loopback(number // MESSAGES_PER_ADDRESS))

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, enumerate(messages)))


async def run_socketio(rasa_url: str, messages: list[tuple[str, str]], users: int) -> list[Exchange]:
    """``users`` connections at once; each connection sends ``MESSAGES_PER_ADDRESS`` messages from an address of
    its own, in sessions of ``MESSAGES_PER_SESSION``, then the next connection takes its place."""
    chunks = [messages[i:i + MESSAGES_PER_ADDRESS] for i in range(0, len(messages), MESSAGES_PER_ADDRESS)]
    numbered = iter(enumerate(chunks))
    done: list[Exchange] = []

    async def worker() -> None:
        for number, chunk in numbered:
            user = SocketioUser(rasa_url, source=loopback(number, network=2),
                                transport=("websocket", "polling")[number % 2])
            try:
                await user.connect()
            except Exception as failed:  # noqa: BLE001 (a refused connection is a figure, whatever its kind)
                done.extend(Exchange("socketio", label, text, None, [], f"connect: {failed!r}", 0.0)
                            for label, text in chunk)
                continue
            try:
                done.extend(await user.exchanges(chunk, MESSAGES_PER_SESSION))
            finally:
                await user.close()

    await asyncio.gather(*(worker() for _ in range(users)))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest", type=int, default=6000, help="messages over the REST channel")
    parser.add_argument("--socketio", type=int, default=4000, help="messages over socket.io")
    parser.add_argument("--workers", type=int, default=4, help="concurrent clients per channel")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis' seed")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "fuzz.json")
    args = parser.parse_args(argv)
    names = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")
    started = time.monotonic()
    messages = generated_messages(args.rest + args.socketio, salt=args.seed)
    rest_messages, socketio_messages = messages[:args.rest], messages[args.rest:]
    print(f"fuzz: generated {len(messages)} messages in {time.monotonic() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as scratch, single_target(Settings.from_env(), Path(scratch),
                                                                             one_address=False) as (rasa_url, processes):
        rasa_pid = processes()["rasa"]
        run_dir = Path(scratch) / "run"
        for text in WARM_UP:
            rest_exchange(rasa_url, "fuzz-warm-up", text, source=loopback(0, network=3))
        rss_before = rss(rasa_pid)
        logs = LogWatch(run_dir / "rasa.log", run_dir / "service.log")
        phase_started = time.monotonic()
        exchanges = run_rest(rasa_url, rest_messages, args.workers)
        rest_seconds = time.monotonic() - phase_started
        print(f"fuzz: REST {len(exchanges)} messages in {rest_seconds:.0f} s", flush=True)
        phase_started = time.monotonic()
        exchanges += asyncio.run(run_socketio(rasa_url, socketio_messages, args.workers))
        socketio_seconds = time.monotonic() - phase_started
        rss_after = rss(rasa_pid)
        logged = logs.failures()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for log in ("rasa.log", "service.log"):  # kept for reading the failures; the stack's folder goes
            shutil.copy(run_dir / log, args.out.with_name(f"fuzz-{log}"))
    tally = Tally()
    for exchange in exchanges:
        tally.add(exchange, names)
    seconds = sorted(e.seconds for e in exchanges if e.error is None)
    figures = {
        "messages": tally.messages, "server_errors": tally.server_errors, "failures_logged": len(logged),
        "empty_replies": tally.empty_replies, "other_problems": tally.other_problems,
        "rasa_rss_before_mib": round(rss_before / 2**20, 1), "rasa_rss_after_mib": round(rss_after / 2**20, 1),
        "rss_change_percent": round(100 * (rss_after - rss_before) / rss_before, 1),
        "rest_seconds": round(rest_seconds, 1), "socketio_seconds": round(socketio_seconds, 1),
        "p50_ms": round(1000 * statistics.median(seconds), 1) if seconds else None,
        "p95_ms": round(1000 * seconds[int(0.95 * (len(seconds) - 1))], 1) if seconds else None,
        "empty_answered_with": dict(Counter(names.of(e.replies[0]) for e in exchanges
                                            if e.label == "empty" and e.replies)),
        "by_class": dict(sorted(tally.by_class.items())), "examples": tally.examples, "logged": logged[:20],
        "seed": args.seed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"fuzz: {figures['messages']} messages ({len(rest_messages)} REST in {rest_seconds:.0f} s, "
          f"{len(socketio_messages)} socket.io in {socketio_seconds:.0f} s), {figures['server_errors']} server errors, "
          f"{len(logged)} failures logged, {figures['empty_replies']} empty replies, {figures['other_problems']} other "
          f"problems; reply p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms; Rasa RSS "
          f"{figures['rasa_rss_before_mib']} MiB before, {figures['rasa_rss_after_mib']} MiB after "
          f"({figures['rss_change_percent']:+.1f}%)")
    print(f"  empty or whitespace-only messages answered with: {figures['empty_answered_with']}")
    for line in itertools.chain(tally.examples, logged[:10]):
        print(f"  {line}")
    wrong = logged or figures["server_errors"] or figures["empty_replies"] or figures["other_problems"]
    return 1 if wrong or abs(figures["rss_change_percent"]) > 10 else 0


if __name__ == "__main__":
    raise SystemExit(main())
