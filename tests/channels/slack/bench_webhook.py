"""The Slack webhook's answer time with 20 conversations at once, against Slack's 3-second limit.

Slack gives up on a delivery (and retries it) when the webhook has not answered within 3 seconds, so the
channel answers at once and lets the assistant work in the background. This measures both: the webhook's
answer time (what Slack's limit applies to) and the time until the reply is posted to the (fake) Web API, for
``conversations`` direct-message conversations writing at once, each ``turns`` messages in a row (a greeting
and searches, the slow kind).

Run it with ``.venv/bin/python -m tests.channels.slack.bench_webhook`` (it starts the assistant with the Slack
channel and a local fake Slack on free ports, and prints a Markdown table), or call :func:`measure` against a
running one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from navigator.launcher import free_port, running
from navigator.settings import PROJECT_ROOT, Settings
from tests.channels.slack import payloads
from tests.channels.slack.fake_slack import FakeSlack

SLACK_LIMIT_SECONDS = 3.0
TEXTS = ["hello", "We need GMP manufacturing of a lentiviral vector for a phase 1 trial",
         "flow cytometry sorting of immune cells in Flemingsberg", "proteomics and mass spectrometry of plasma samples",
         "preclinical MRI and PET imaging of mice", "single cell RNA sequencing of tumour biopsies"]


@dataclass(frozen=True)
class WebhookStats:
    """Answer times: ``ack_*`` of the webhook (milliseconds), ``reply_*`` until the reply was posted (seconds)."""

    conversations: int
    messages: int
    ack_p50_ms: float
    ack_p95_ms: float
    ack_max_ms: float
    reply_p50_s: float
    reply_p95_s: float
    unanswered: int

    def markdown(self) -> str:
        return "\n".join([
            ("| conversations | messages | webhook p50 (ms) | webhook p95 (ms) | webhook max (ms) | "
             "reply p50 (s) | reply p95 (s) | unanswered |"),
            "|---|---|---|---|---|---|---|---|",
            (f"| {self.conversations} | {self.messages} | {self.ack_p50_ms:.0f} | {self.ack_p95_ms:.0f} | "
             f"{self.ack_max_ms:.0f} | {self.reply_p50_s:.2f} | {self.reply_p95_s:.2f} | {self.unanswered} |"),
            "",
            (f"Slack's limit for the webhook's answer: {SLACK_LIMIT_SECONDS * 1000:.0f} ms; "
             f"p95 {'within' if self.ack_p95_ms < SLACK_LIMIT_SECONDS * 1000 else 'OVER'} it."),
        ])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _conversation(session: aiohttp.ClientSession, webhook: str, slack: FakeSlack, index: int, turns: int,
                        tag: str, reply_timeout: float) -> tuple[list[float], list[float], int]:
    user, channel = f"U{tag}{index:03d}", f"D{tag}{index:03d}"
    acks: list[float] = []
    replies: list[float] = []
    unanswered = 0
    for turn in range(turns):
        body = payloads.event_body(TEXTS[turn % len(TEXTS)], event_id=f"Ev{tag}{index:03d}{turn:03d}", user=user,
                                   channel=channel, ts=f"1700000000.{index:03d}{turn:03d}")
        headers, data = payloads.signed(body, time.time())
        before = len([c for c in slack.recorded("chat.postMessage") if c.body.get("channel") == channel])
        started = time.perf_counter()
        async with session.post(webhook, data=data, headers=headers) as answer:
            await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"the webhook answered {answer.status}")
        acks.append(time.perf_counter() - started)
        deadline = time.monotonic() + reply_timeout
        while len([c for c in slack.recorded("chat.postMessage") if c.body.get("channel") == channel]) <= before:
            if time.monotonic() > deadline:
                unanswered += 1
                break
            await asyncio.sleep(0.05)
        else:
            replies.append(time.perf_counter() - started)
    return acks, replies, unanswered


async def measure(webhook: str, slack: FakeSlack, *, conversations: int = 20, turns: int = 3,
                  reply_timeout: float = 120.0) -> WebhookStats:
    """``conversations`` users writing at once to ``webhook``, ``turns`` messages each, each waiting for its
    reply before the next; the channel must post to ``slack``."""
    tag = format(int(time.time() * 1000) % 10**8, "08d")
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(_conversation(session, webhook, slack, index, turns, tag, reply_timeout)
                                         for index in range(conversations)))
    acks = [seconds for result in results for seconds in result[0]]
    replies = [seconds for result in results for seconds in result[1]] or [float("nan")]
    return WebhookStats(conversations, len(acks), statistics.median(acks) * 1000, _p95(acks) * 1000,
                        max(acks) * 1000, statistics.median(replies), _p95(replies),
                        sum(result[2] for result in results))


def run_slack_benchmark(settings: Settings, *, conversations: int = 20, turns: int = 3) -> str:
    """Start the assistant with the Slack channel and a fake Slack, measure, stop both; a Markdown report."""
    model = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"
    slack = FakeSlack(payloads.BOT_TOKEN)
    with tempfile.TemporaryDirectory() as folder, slack.in_thread():
        isolated = replace(settings, database_url=f"sqlite:///{Path(folder) / 'requests.db'}",
                           tracker_db_url=f"sqlite:///{Path(folder) / 'tracker.db'}",
                           session_key_file=Path(folder) / "session.key", slack_signing_secret=payloads.SECRET,
                           slack_bot_token=payloads.BOT_TOKEN, slack_api_url=slack.api_url)
        with running(isolated, model=model, rasa_port=free_port(), service_port=free_port(),
                     run_dir=Path(folder) / "run") as stack:
            webhook = f"{stack.rasa_url}/webhooks/slack/webhook"
            asyncio.run(measure(webhook, slack, conversations=1, turns=2))  # warm-up: first search loads the model
            stats = asyncio.run(measure(webhook, slack, conversations=conversations, turns=turns))
    return stats.markdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=3)
    arguments = parser.parse_args()
    print(run_slack_benchmark(Settings.from_env(), conversations=arguments.conversations, turns=arguments.turns))


if __name__ == "__main__":
    main()
