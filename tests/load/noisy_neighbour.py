"""``python -m tests.load.noisy_neighbour`` (part of ``make bench``): how much one abusive client slows ten
companies holding ordinary conversations, with the input guard's default limits.

It starts its own ``make run`` pair (tests/load/run.py's ``single_target``, default limits: 20 messages a minute
and a burst of 10 per sender, 120 a minute and a burst of 60 per client address, no trusted proxy). Ten companies
hold whole conversations (tests/load/scenario.py: greeting, search, details, more results, the support-request
form, a status check, 14 turns), each pausing ``--think`` seconds between turns (1 to 2 s: with less, a company's
14 turns would outrun its own sender limit), while, in the same run:

1. ``alone``: nobody else talks;
2. ``abuser, one sender``: one client sends maximum-size messages (2,000 characters, the limit) and over-limit ones
   (2,001 and 20,000) as fast as the server answers, on ``--abuser-streams`` connections at once, all as one
   sender: the sender limit holds it back after a burst of 10;
3. ``abuser, new sender per message``: the same, each message with a new sender id from the same address: only
   the address limit holds it back, after a burst of 60, letting 2 messages a second through;
4. ``alone again``: nobody else, to see how much the machine drifted meanwhile.

All clients are on this machine, and the guard counts client addresses by the TCP peer. So that the companies do
not share the address bucket the abuser drains (nor their own, as ten offices would not), every client sends from
a loopback address of its own: the companies from 127.0.1.1 to 127.0.1.10, the abuser from 127.0.0.2 (Linux
routes all of 127.0.0.0/8 to the loopback interface, and the Rasa server listens on 127.0.0.1). The abuser runs in
a process of its own, so that it does not take the companies' interpreter lock.

Printed per phase: the companies' turns, their p50 and p95 (ms), wrong answers (empty, an apology, not the turn's
answer), and what the abuser got (refusals, slow-downs, dropped, answered). The goal: p95 with the abuser at most
twice p95 alone. Exits 1 when a company got a wrong answer (a goal missed is printed, as tests/load/run.py does).
The figures also go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from navigator.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import ResponseNames
from tests.fuzz.client import rest_exchange
from tests.load import scenario
from tests.load.run import Processes, ProcessWatch, single_target

COMPANIES = 10
ABUSER_ADDRESS = "127.0.0.2"
MAX_CHARS = 2000
ABUSE = ("We need GMP manufacturing of a lentiviral vector and flow cytometry sorting of immune cells. ",
         "cryo-EM structure of our membrane protein, proteomics and mass spectrometry of plasma samples. ")


def company_address(number: int) -> str:
    return f"127.0.1.{number + 1}"


def abusive_message(number: int) -> str:
    """Maximum-size messages (2,000 characters) and over-limit ones (2,001 and 20,000), in turn."""
    length = (MAX_CHARS, MAX_CHARS, MAX_CHARS + 1, 10 * MAX_CHARS)[number % 4]
    piece = ABUSE[number % len(ABUSE)]
    return (piece * (length // len(piece) + 1))[:length].strip().ljust(length, "x")


def abuse(rasa_url: str, spread: bool, streams: int, stop: Any, results: Any) -> None:
    """The abuser's process: ``streams`` threads sending as fast as answered until ``stop``; puts its counts."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    names = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")
    numbers = iter(range(10**9))

    def stream() -> None:
        while not stop.is_set():
            with lock:
                number = next(numbers)
            sender = f"abuser-{uuid.uuid4().hex[:12]}" if spread else "abuser"
            exchange = rest_exchange(rasa_url, sender, abusive_message(number), "abuse", source=ABUSER_ADDRESS,
                                     timeout=60)
            if exchange.error is not None or exchange.status != 200:
                kind = "error"
            elif not exchange.replies:
                kind = "dropped"
            else:
                first = names.of(exchange.replies[0])
                kind = first if first in ("utter_message_over_limit", "utter_slow_down") else "answered"
            with lock:
                outcomes[kind] += 1

    threads = [threading.Thread(target=stream) for _ in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(outcomes))


@dataclass
class PhaseFigures:
    phase: str
    turns: int
    wrong: int
    p50_ms: float
    p95_ms: float
    seconds: float
    abuser: dict[str, int] = field(default_factory=dict)
    cpu_percent: dict[str, float] = field(default_factory=dict)
    wrong_examples: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def converse(rasa_url: str, company: int, conversations: int, think: tuple[float, float], names: ResponseNames,
             numbers: list[int], latencies: list[float], wrong: list[str], lock: threading.Lock) -> None:
    """One company holding ``conversations`` whole conversations, one after the other, from its own address."""
    rng = random.Random(company)
    for _ in range(conversations):
        with lock:
            number = numbers.pop()
        sender = f"company-{number}-{uuid.uuid4().hex[:8]}"
        replies: scenario.Replies = []
        for step in scenario.conversation(number):
            try:
                turn = step.build(replies) if isinstance(step, scenario.Later) else step
            except scenario.WrongAnswer as error:
                with lock:
                    wrong.append(str(error))
                break
            exchange = rest_exchange(rasa_url, sender, turn.text, turn.kind, source=company_address(company))
            with lock:
                latencies.append(exchange.seconds)
            try:
                if exchange.error is not None:
                    raise scenario.WrongAnswer(f"{turn.kind}: {exchange.error}")
                turn.check(names, exchange.replies)
            except scenario.WrongAnswer as error:
                with lock:
                    wrong.append(str(error))
                break
            replies = exchange.replies
            time.sleep(rng.uniform(*think))


def run_phase(name: str, rasa_url: str, processes: Processes, conversations: int, think: tuple[float, float],
              names: ResponseNames, first_number: int, abuser: str | None, streams: int) -> PhaseFigures:
    latencies: list[float] = []
    wrong: list[str] = []
    lock = threading.Lock()
    numbers = list(range(first_number + COMPANIES * conversations, first_number, -1))
    spawning = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one's threads
    stop, results = spawning.Event(), spawning.Queue()
    abusing = None
    if abuser is not None:
        abusing = spawning.Process(target=abuse, args=(rasa_url, abuser == "spread", streams, stop, results))
        abusing.start()
        time.sleep(2)  # the abuser is at full speed before the first company says hello
    started = time.monotonic()
    companies = [threading.Thread(target=converse, args=(rasa_url, company, conversations, think, names, numbers,
                                                         latencies, wrong, lock)) for company in range(COMPANIES)]
    pids = dict(processes()) | ({"abuser": abusing.pid} if abusing is not None and abusing.pid else {})
    with ProcessWatch(pids) as watch:
        for thread in companies:
            thread.start()
        for thread in companies:
            thread.join()
    seconds = time.monotonic() - started
    cpu = {process: round(figures.cpu_percent) for process, figures in watch.figures().items()}
    cpu["machine"] = round(watch.machine_percent)
    abuser_counts: dict[str, int] = {}
    if abusing is not None:
        stop.set()
        abuser_counts = results.get(timeout=120)
        abusing.join(timeout=60)
    return PhaseFigures(name, len(latencies), len(wrong), round(1000 * statistics.median(latencies), 1),
                        round(1000 * percentile(latencies, 0.95), 1), round(seconds, 1), abuser_counts, cpu,
                        wrong[:5])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.noisy_neighbour", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=2, help="whole conversations per company and phase")
    parser.add_argument("--think", default="1,2", help="seconds between a company's turns: MIN,MAX")
    parser.add_argument("--abuser-streams", type=int, default=4, help="the abuser's requests at once")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "noisy-neighbour.json")
    args = parser.parse_args(argv)
    low, _, high = args.think.partition(",")
    think = (float(low), float(high or low))
    names = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")
    phases = [("alone", None), ("abuser, one sender", "one"), ("abuser, new sender per message", "spread"),
              ("alone again", None)]
    results: list[PhaseFigures] = []
    with tempfile.TemporaryDirectory() as scratch, single_target(Settings.from_env(), Path(scratch),
                                                                             one_address=False) as (rasa_url, processes):
        # Not measured: the first turns of a new server load what they use.
        run_phase("warm-up", rasa_url, processes, 1, think, names, 10**6, None, 0)
        for number, (name, abuser) in enumerate(phases):
            results.append(run_phase(name, rasa_url, processes, args.conversations, think, names, number * 10**4,
                                     abuser, args.abuser_streams))
            last = results[-1]
            print(f"noisy neighbour/{name}: {last.turns} turns in {last.seconds:.0f} s, p50 {last.p50_ms:.0f} ms, "
                  f"p95 {last.p95_ms:.0f} ms, {last.wrong} wrong; abuser {last.abuser}; CPU % of a core "
                  f"{last.cpu_percent}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    alone = results[0]
    print("| phase | company turns | wrong | p50 (ms) | p95 (ms) | p95 / p95 alone | abuser's messages | CPU, % of a "
          "core: Rasa / service / abuser / whole machine |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        abuser = ", ".join(f"{kind} {count}" for kind, count in sorted(result.abuser.items())) or "none"
        cpu = " / ".join(str(result.cpu_percent.get(name, "-")) for name in ("rasa", "service", "abuser", "machine"))
        print(f"| {result.phase} | {result.turns} | {result.wrong} | {result.p50_ms:.0f} | {result.p95_ms:.0f} | "
              f"{result.p95_ms / alone.p95_ms:.2f} | {abuser} | {cpu} |")
    for result in results:
        for example in result.wrong_examples:
            print(f"wrong in {result.phase}: {example}")
    worst = max(r.p95_ms for r in results if r.abuser) / alone.p95_ms
    print(f"goal: p95 with the abuser at most 2x p95 alone: {worst:.2f}x")
    return 1 if any(r.wrong for r in results) else 0  # a goal missed is a figure; a wrong answer an error


if __name__ == "__main__":
    raise SystemExit(main())
