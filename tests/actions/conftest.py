from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from support_requests.store import RequestStore


def make_tracker(text: str = "", *, intent: str = "describe_need", slots: dict[str, Any] | None = None,
                 entities: list[dict[str, Any]] | None = None, events: list[dict[str, Any]] | None = None,
                 active_loop: str | None = None, sender: str = "conversation-1") -> Tracker:
    """A tracker as Rasa sends it to an action, after the user said ``text``."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    history = list(events or []) + [{"event": "user", "text": text, "timestamp": 1700000000.5,
                                      "parse_data": latest, "input_channel": "rest"}]
    return Tracker(sender, dict(slots or {}), latest, history, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The names of the responses the action chose, in order (custom payloads appear as 'custom')."""
    return [m.get("response") or ("custom" if m.get("custom") else m.get("text")) for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def store(tmp_path) -> RequestStore:
    store = RequestStore.from_url(f"sqlite:///{tmp_path / 'requests.db'}")
    yield store
    store.close()
