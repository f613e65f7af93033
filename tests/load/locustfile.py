"""Locust users for the load runs (``python -m tests.load.run``, part of ``make bench``).

- ``Company`` holds whole conversations (tests/load/scenario.py), pausing between turns for
  ``NAVIGATOR_LOAD_THINK`` seconds (``MIN,MAX``, default ``1,3``): a person reading and typing.
- ``Greeter`` and ``Searcher`` send one kind of turn as fast as the server answers, each turn opening a new
  conversation: the capacity of the turn Rasa answers alone against that of the turn that also searches.

Every request is named by its kind of turn, so Locust's figures come per kind. A turn whose reply is empty, an
apology or not this turn's answer is a failure, and ends its conversation.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

from tests.e2e.conftest import ResponseNames
from tests.load import scenario

WEBHOOK = "/webhooks/rest/webhook"
NAMES = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")
NUMBERS = scenario.numbers()
TURN_TIMEOUT = 120.0


def _think() -> tuple[float, float]:
    low, _, high = os.environ.get("NAVIGATOR_LOAD_THINK", "1,3").partition(",")
    return float(low), float(high or low)


class _Speaker(FastHttpUser):
    abstract = True
    network_timeout = TURN_TIMEOUT
    connection_timeout = TURN_TIMEOUT

    def say(self, sender: str, turn: scenario.Turn) -> scenario.Replies | None:
        """Send one turn; its replies, or None (and a failure in Locust's figures) when they are wrong."""
        with self.client.post(WEBHOOK, json={"sender": sender, "message": turn.text}, name=turn.kind,
                              catch_response=True) as response:
            try:
                replies = response.json()
                turn.check(NAMES, replies)
            except (ValueError, TypeError, scenario.WrongAnswer) as error:
                response.failure(f"{type(error).__name__}: {error}")
                return None
            return replies

    def fail(self, kind: str, error: Exception) -> None:
        self.environment.events.request.fire(request_type="POST", name=kind, response_time=0, response_length=0,
                                             exception=error, context={})


class Company(_Speaker):
    """A company's whole conversation: greeting, search, details, more results, the form and a status check."""

    wait_time = between(*_think())

    @task
    def converse(self) -> None:
        number, sender = next(NUMBERS), f"load-{uuid.uuid4().hex[:16]}"
        replies: Any = []
        for step in scenario.conversation(number):
            try:
                turn = step.build(replies) if isinstance(step, scenario.Later) else step
            except scenario.WrongAnswer as error:
                self.fail(step.kind, error)
                return
            replies = self.say(sender, turn)
            if replies is None:
                return
            self.wait()


class Greeter(_Speaker):
    """Greetings, each the first turn of a new conversation, with no pause."""

    wait_time = constant(0)

    @task
    def greet(self) -> None:
        self.say(f"load-{uuid.uuid4().hex[:16]}", scenario.greeting())


class Searcher(_Speaker):
    """Searches, each the first turn of a new conversation, with no pause."""

    wait_time = constant(0)

    @task
    def search(self) -> None:
        need = scenario.NEEDS[next(NUMBERS) % len(scenario.NEEDS)]
        self.say(f"load-{uuid.uuid4().hex[:16]}", scenario.search(need))
