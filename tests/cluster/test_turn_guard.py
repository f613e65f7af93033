"""bot/turn_guard.py in the Rasa environment: a turn that fails because a shared store is away gets the apology,
on the channel it came from; a tracker store that fails raises instead of going on in memory; other errors are
not hidden. The cluster tests restart Redis and PostgreSQL for real (test_cluster_faults.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT
from tests.domain_responses import english_texts

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DRIVER = r"""
import asyncio, json
import sqlalchemy.exc
import turn_guard
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain

domain = Domain.load("domain.yml")

class BrokenStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("connection refused"))

class Processor:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

class Agent:
    def __init__(self, failure):
        self.domain, self.processor, self.failure = domain, Processor(), failure
        self.tracker_store = FailSafeTrackerStore(BrokenStore(domain))

    async def handle_message(self, message):
        if self.failure == "lock":
            raise LockError("Redis is away")
        if self.failure == "tracker":
            await self.tracker_store.get_or_create_tracker(message.sender_id)
        if self.failure == "bug":
            raise KeyError("a bug")
        await message.output_channel.send_response(message.sender_id, {"text": "answered"})

async def main():
    results = {}
    for failure in ("none", "lock", "tracker", "bug"):
        agent = Agent(failure)
        turn_guard.guard(agent, "advisors@example.org")
        turn_guard.guard(agent, "twice@example.org")  # a second install changes nothing
        output = CollectingOutputChannel()
        try:
            await agent.handle_message(UserMessage("hello", output, "user-1"))
            results[failure] = [m.get("text") for m in output.messages]
        except Exception as error:
            results[failure] = "raised " + type(error).__name__
    print(json.dumps(results))

asyncio.run(main())
"""


def test_store_failures_become_the_apology_and_other_errors_pass() -> None:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    apology = english_texts()["utter_service_unavailable"].format(advisors_email="advisors@example.org")
    assert results["none"] == ["answered"]
    assert results["lock"] == [apology]
    assert results["tracker"] == [apology]  # not a new conversation in memory
    assert results["bug"] == "raised KeyError"
