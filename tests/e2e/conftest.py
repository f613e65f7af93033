"""A client that talks to the running assistant over Rasa's REST channel (the ``stack`` fixture that starts
both processes lives in tests/conftest.py, shared with the browser tests).

Replies are identified by the name of the domain response they came from (the wording is read from
bot/domain.yml), so copy edits never break these tests.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from navigator.launcher import Stack
from navigator.settings import PROJECT_ROOT


def _template_pattern(text: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", text)
    regex = "".join("(?s:.*?)" if re.fullmatch(r"\{[a-z_]+\}", p) else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class ResponseNames:
    """Maps a bot message's text back to the name of the domain response that produced it."""

    def __init__(self, domain_path: Path):
        domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
        patterns = []
        for name, variants in domain["responses"].items():
            for variant in variants:
                if "text" in variant:
                    patterns.append((name, _variant_language(variant), _template_pattern(variant["text"])))
        # Longer templates first: a short template with variables could otherwise swallow a longer message.
        self._patterns = sorted(patterns, key=lambda p: -len(p[2].pattern))

    def of(self, message: dict[str, Any]) -> str:
        if "custom" in message:
            return "custom:" + str(message["custom"].get("type"))
        text = message.get("text", "")
        for name, _, pattern in self._patterns:
            if pattern.match(text):
                return name
        return f"unknown:{text[:60]}"

    def language_of(self, message: dict[str, Any]) -> str | None:
        """``sv`` or ``en``: the language of the response variation ``message`` came from; None for a custom
        payload, an unknown text, or a text that both languages' variations produce (a hit's "1. Name")."""
        text = message.get("text", "")
        found = {language for _, language, pattern in self._patterns if "custom" not in message and pattern.match(text)}
        return found.pop() if len(found) == 1 else None


def _variant_language(variant: dict[str, Any]) -> str:
    """``sv`` for a variation conditioned on the language slot being sv, else ``en``."""
    for condition in variant.get("condition") or []:
        if condition.get("name") == "language" and condition.get("value") == "sv":
            return "sv"
    return "en"


@dataclass
class Conversation:
    """One user talking to the assistant."""

    stack: Stack
    names: ResponseNames
    sender: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:12]}")
    last: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, metadata: dict[str, Any] | None = None) -> list[str]:
        """Send ``text`` (with the channel's ``metadata``, if any); return the names of the replies (custom
        payloads as ``custom:TYPE``)."""
        sent: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata is not None:
            sent["metadata"] = metadata
        body = json.dumps(sent).encode()
        request = urllib.request.Request(self.stack.rest_webhook, data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            self.last = json.loads(response.read())
        return [self.names.of(m) for m in self.last]

    def custom(self, kind: str) -> dict[str, Any]:
        """The custom payload of ``kind`` in the last replies."""
        for message in self.last:
            if message.get("custom", {}).get("type") == kind:
                return message["custom"]
        raise AssertionError(f"no {kind} payload in {self.last}")

    def languages(self) -> set[str]:
        """The languages of the last replies whose language can be told (see :meth:`ResponseNames.language_of`)."""
        return {language for language in map(self.names.language_of, self.last) if language}

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.last]

    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.last for b in m.get("buttons", [])]


@pytest.fixture(scope="session")
def names() -> ResponseNames:
    return ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


@pytest.fixture
def chat(stack, names) -> Conversation:
    return Conversation(stack[0], names)
