"""Benchmark of the Teams webhook: how fast it answers, and how fast the replies follow, with 20 conversations at once.

Starts the assistant with Teams on against the local fakes of Microsoft (tests/channels/teams/harness.py), then
runs ``--conversations`` Teams users at once, each taking ``--turns`` turns in order (a greeting, a search, a
question), as a person would: the next message after the replies to the last one. Two times per message:

- **answer**: POST to the webhook until its HTTP answer (202). The Bot Connector gives up after 15 s, so this
  is the figure to hold against Microsoft's limit; the turn itself runs after the answer.
- **reply**: POST until the first reply reaches the (fake) connector: what the user waits for.

Prints p50, p95 and the maximum of both in milliseconds, as one JSON object on the last line.

    .venv/bin/python -m tests.channels.teams.bench_webhook [--conversations 20] [--turns 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
for path in (ROOT, ROOT / "bot"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from tests.channels.teams.harness import TeamsChat, TeamsStack, teams_stack  # noqa: E402

TURNS = ("hello", "We need GMP manufacturing of a viral vector for a phase 1 trial", "does it cost anything?",
         "sorting immune cells by flow cytometry", "what is Stockholm Life Tech?")
TEAMS_LIMIT_MS = 15_000


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def one_conversation(teams: TeamsStack, turns: int) -> list[tuple[float, float]]:
    """One user's turns; returns (answer ms, first reply ms) per message."""
    chat = TeamsChat(teams)
    timings = []
    for text in TURNS[:turns]:
        activity = chat.activity(text)
        started = time.monotonic()
        answer = chat.post(activity)
        answered = time.monotonic()
        if answer.status_code != 202:
            raise RuntimeError(f"the webhook answered {answer.status_code}")
        chat.wait_replies(activity["id"], settle=0.2)
        first = min(r.received for r in chat.replies_to(activity["id"]))
        timings.append(((answered - started) * 1000, (first - started) * 1000))
    return timings


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1),
            "max": round(max(values), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20, help="Teams users at once (default 20)")
    parser.add_argument("--turns", type=int, default=3, choices=range(1, len(TURNS) + 1),
                        help="messages per user, in order (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="teams-bench-") as folder:
        print("starting the assistant with Teams on (a minute or more) ...", file=sys.stderr, flush=True)
        with teams_stack(Path(folder)) as teams:
            one_conversation(teams, 1)  # warm-up: keys, token and model caches
            started = time.monotonic()
            with ThreadPoolExecutor(args.conversations) as pool:
                results = list(pool.map(lambda _: one_conversation(teams, args.turns), range(args.conversations)))
            elapsed = time.monotonic() - started
    answers = [a for timings in results for a, _ in timings]
    replies = [r for timings in results for _, r in timings]
    report = {"channel": "teams", "conversations": args.conversations, "messages": len(answers),
              "seconds": round(elapsed, 1), "answer_ms": summary(answers), "first_reply_ms": summary(replies),
              "limit_ms": TEAMS_LIMIT_MS, "within_limit": max(answers) < TEAMS_LIMIT_MS}
    print(f"Teams webhook, {args.conversations} conversations x {args.turns} turns: answer p50 "
          f"{report['answer_ms']['p50']} ms, p95 {report['answer_ms']['p95']} ms (limit {TEAMS_LIMIT_MS} ms); "
          f"first reply p50 {report['first_reply_ms']['p50']} ms, p95 {report['first_reply_ms']['p95']} ms")
    print(json.dumps(report))
    return 0 if report["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
