"""The assistant with Teams turned on, talking to local fakes of Microsoft, for the end-to-end tests and the
webhook benchmark.

:func:`teams_stack` starts the fake login/keys/connector server and the whole assistant (Rasa server and Navigator
service, :func:`navigator.launcher.running`) with ``NAVIGATOR_TEAMS_*`` settings that point at the fake, so the
launcher writes the channel's credentials as it does in production. :class:`TeamsChat` plays a Teams user:
it posts activities with tokens signed by the fake's key and collects the bot's replies from the fake connector.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

import teams_activity
from navigator.launcher import Stack
from navigator.settings import Settings
from tests.channels.teams.fakes import (BOT_ID, FakeMicrosoft, Recorded, SigningKeys, message, running_fake,
                                        teams_environment)



@dataclass
class TeamsStack:
    stack: Stack
    settings: Settings
    fake: FakeMicrosoft

    @property
    def webhook(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/botframework/webhook"

    def tracker_events(self, sender_id: str) -> list[str]:
        """The type names of the tracker events stored for ``sender_id`` (``user``, ``bot``, ``action``, ...)."""
        engine = create_engine(self.settings.tracker_db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"),
                                          {"s": sender_id})
                return [row[0] for row in rows]
        finally:
            engine.dispose()


@contextlib.contextmanager
def teams_stack(data: Path) -> Iterator[TeamsStack]:
    """The fakes and an assistant of its own with Teams on, SQLite request and tracker databases in ``data`` (the
    benchmark's; the tests share the session's ``stack``, which has Teams on too)."""
    from tests.conftest import started_stack

    keys = SigningKeys()
    keys.add("key-1")
    with running_fake(FakeMicrosoft(keys)) as fake, \
            started_stack(data, f"sqlite:///{data / 'requests.db'}", f"sqlite:///{data / 'tracker.db'}",
                          teams_environment(fake)) as (stack, settings):
        yield TeamsStack(stack, settings, fake)


@dataclass
class TeamsChat:
    """One Teams user in one conversation with the bot."""

    teams: TeamsStack
    conversation: str = field(default_factory=lambda: f"a:{uuid.uuid4().hex}")
    user: str = field(default_factory=lambda: f"29:{uuid.uuid4().hex[:16]}")
    last: list[dict[str, Any]] = field(default_factory=list)

    @property
    def service_url(self) -> str:
        return self.teams.fake.url + "/"

    @property
    def sender_id(self) -> str:
        return teams_activity.sender_id(self.activity("x"))

    def activity(self, text: str | None, **extra: Any) -> dict[str, Any]:
        made = message(self.service_url, text or "", conversation=self.conversation, user=self.user, **extra)
        if text is None:
            made.pop("text")
        return made

    def post(self, activity: dict[str, Any], authorization: str | None = "sign") -> httpx.Response:
        """POST ``activity`` to the webhook with a valid token (``"sign"``), the given header, or none."""
        if authorization == "sign":
            authorization = f"Bearer {self.teams.fake.keys.token(activity.get('serviceUrl', self.service_url))}"
        headers = {"Authorization": authorization} if authorization else {}
        return httpx.post(self.teams.webhook, json=activity, headers=headers, timeout=30)

    def replies_to(self, activity_id: str) -> list[Recorded]:
        return [r for r in list(self.teams.fake.activities) if r.activity.get("replyToId") == activity_id]

    def wait_replies(self, activity_id: str, timeout: float = 120.0, settle: float = 0.5) -> list[dict[str, Any]]:
        """The bot's replies to ``activity_id``: waits for the first, then until no more come for ``settle`` s."""
        deadline = time.monotonic() + timeout
        while not self.replies_to(activity_id):
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply within {timeout:.0f} s")
            time.sleep(0.05)
        count = 0
        while count != len(self.replies_to(activity_id)):
            count = len(self.replies_to(activity_id))
            time.sleep(settle)
        self.last = [r.activity for r in self.replies_to(activity_id)]
        return self.last

    def send(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.post(activity)
        assert answer.status_code == 202, answer.text
        return self.wait_replies(activity["id"])

    def say(self, text: str, **extra: Any) -> list[dict[str, Any]]:
        """Write ``text`` (with more of the activity's fields, such as ``locale``); returns the reply activities."""
        return self.send(self.activity(text, **extra))

    def submit(self, payload: str) -> list[dict[str, Any]]:
        """Press a card button (``Action.Submit``) whose data carries ``payload``."""
        return self.send(self.activity(None, value={"payload": payload}))

    def added(self, **extra: Any) -> list[dict[str, Any]]:
        """Add the bot to the conversation (with more of the activity's fields, such as ``locale``)."""
        update = {**self.activity(None, **extra), "type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]}
        return self.send(update)

    def submits(self) -> list[str]:
        """The ``Action.Submit`` payloads of the last replies' cards, in order."""
        return [action["data"]["payload"] for reply in self.last for attachment in reply.get("attachments") or []
                for action in attachment["content"].get("actions", []) if action["type"] == "Action.Submit"]


def shown_texts(replies: list[dict[str, Any]]) -> list[str]:
    """What the replies show, paragraph by paragraph: plain-text paragraphs and each card's text (its TextRuns
    joined); a carousel shows as ``cards:N``."""
    out: list[str] = []
    for reply in replies:
        if reply.get("text"):
            out += [part for part in reply["text"].split("\n\n") if part]
        attachments = reply.get("attachments") or []
        if reply.get("attachmentLayout") == "carousel":
            out.append(f"cards:{len(attachments)}")
            continue
        for attachment in attachments:
            out.append("\n\n".join("".join(run["text"] for run in block["inlines"])
                                   for block in attachment["content"]["body"] if block["type"] == "RichTextBlock"))
    return out
