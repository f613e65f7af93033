"""The Slack channel's tests.

Unit tests import the pure modules of bot/ (:mod:`tests.channels.slack.payloads` puts bot/ on the import path).
The end-to-end tests use the session's running assistant, which has the Slack channel on (``slack_stack``): the
settings ``NAVIGATOR_SLACK_*`` point it at a local fake of Slack's Web API (``fake_slack``), and the launcher writes the
channel into Rasa's credentials.yml as ``make run`` does. :class:`SlackUser` talks to it as Slack would.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_events import conversation_id
from slack_markup import unescape
from sqlalchemy import create_engine, text

from navigator.launcher import Stack
from navigator.settings import Settings
from tests.channels.slack import payloads
from tests.channels.slack.fake_slack import Call, FakeSlack
from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import ResponseNames


@dataclass(frozen=True)
class SlackStack:
    """The running assistant with the Slack channel, its settings and the fake Slack it posts to."""

    stack: Stack
    settings: Settings
    slack: FakeSlack

    @property
    def webhook(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/slack/webhook"

    def post(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """POST ``body`` with ``headers`` to the channel's webhook; returns the status and the answer's body."""
        request = urllib.request.Request(self.webhook, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read()

    def tracker_events(self, sender: str) -> list[tuple[str, dict[str, Any]]]:
        """``(type_name, event)`` of every event Rasa stored for ``sender``, oldest first."""
        engine = create_engine(self.settings.tracker_db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :sender "
                                               "ORDER BY id"), {"sender": sender}).all()
        finally:
            engine.dispose()
        return [(row[0], json.loads(row[1])) for row in rows]


@pytest.fixture(scope="session")
def slack_stack(stack: tuple[Stack, Settings], fake_slack: FakeSlack) -> SlackStack:
    """The session's assistant (tests/conftest.py ``stack``, which has the Slack channel on) and its fake Slack."""
    running, settings = stack
    return SlackStack(running, settings, fake_slack)


@pytest.fixture(scope="session")
def response_names() -> ResponseNames:
    return ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


@dataclass
class SlackUser:
    """A user writing to the bot in one Slack channel (a direct message by default), as Slack delivers it."""

    slack_stack: SlackStack
    names: ResponseNames
    user: str
    channel: str
    kind: str = "message"
    seen: int = 0
    last: list[Call] = field(default_factory=list)
    _count: int = 0

    @property
    def sender(self) -> str:
        """The conversation's id in Rasa (the pseudonym the channel derives)."""
        return conversation_id(payloads.SECRET, payloads.TEAM, self.channel, self.user)

    def posts(self) -> list[Call]:
        return [c for c in self.slack_stack.slack.recorded("chat.postMessage") if c.body.get("channel") == self.channel]

    def deliver(self, body: bytes, *, content_type: str = "application/json", extra: dict[str, str] | None = None
                ) -> int:
        status, _ = self.slack_stack.post(*payloads.signed(body, time.time(), content_type=content_type,
                                                           extra=extra))
        return status

    def say(self, text: str, thread_ts: str | None = None) -> list[str]:
        """Write ``text`` (in Slack's markup); wait for the answer; return the names of its parts."""
        self._count += 1
        body = payloads.event_body(text, event_id=f"Ev{self.user}{self._count}", user=self.user,
                                   channel=self.channel, ts=f"1700000000.{self._count:06d}", kind=self.kind,
                                   thread_ts=thread_ts)
        assert self.deliver(body) == 200
        return self.answer()

    def click(self, value: str) -> list[str]:
        """Click the postback button with payload ``value`` (the latest one posted); return the answer's names."""
        buttons = [e for call in reversed(self.posts()) for block in call.body["blocks"] if block["type"] == "actions"
                   for e in block["elements"] if e.get("value") == value]
        assert buttons, f"no button {value} in the answers"
        self._count += 1
        body = payloads.action_body(value, action_id=buttons[0]["action_id"], user=self.user, channel=self.channel,
                                    message_ts=f"1700000000.{self._count:06d}",
                                    action_ts=f"1700000100.{self._count:06d}")
        assert self.deliver(body, content_type="application/x-www-form-urlencoded") == 200
        return self.answer()

    def answer(self, settle: float = 0.3) -> list[str]:
        """Wait for the next posted message(s) in the channel; the names of their parts: ``hit`` for a hit
        section, the domain response's name for a text."""
        deadline = time.monotonic() + 180
        while len(self.posts()) <= self.seen:
            assert time.monotonic() < deadline, "no answer from the Slack channel"
            time.sleep(0.1)
        time.sleep(settle)
        posts = self.posts()
        self.last, self.seen = posts[self.seen:], len(posts)
        return [self.name_of(block) for call in self.last for block in call.body["blocks"]
                if block["type"] == "section"]

    def name_of(self, block: dict[str, Any]) -> str:
        """``hit`` for a hit section, else the name of the domain response a section shows."""
        shown = block["text"]["text"]
        if shown.startswith("*") and ". " in shown.split("\n")[0]:
            return "hit"
        return self.names.of({"text": unescape(shown)})

    def sections(self) -> list[str]:
        return [block["text"]["text"] for call in self.last for block in call.body["blocks"]
                if block["type"] == "section"]
