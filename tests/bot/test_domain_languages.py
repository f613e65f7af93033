"""Every response of bot/domain.yml in English and in Swedish, the Swedish one chosen by the slot ``language``.

:func:`language_problems` checks a domain's responses: each has an English variation (no condition) and a
Swedish one (conditioned on ``language`` being ``sv``) for every channel either has; the Swedish text is not the
English one (compared normalised, as are the button titles); both have the same ``{placeholders}``, the same
number of buttons and the same intent payloads. It runs on the shipped domain and, to show that it catches
each fault, on small domains made wrong one way each.

The Rasa side, in the Rasa environment: with ``language`` set to ``sv`` only the Swedish variation is a
candidate, with it empty or ``en`` only the English one, for a plain response, a form's question and a
validation message a custom action names, and a retrieval intent's answer (``utter_faq/...``).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import unicodedata
from collections import Counter
from typing import Any

import pytest

from navigator.settings import PROJECT_ROOT
from tests.domain_responses import LANGUAGE_SLOT, SWEDISH, is_swedish, load_domain

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

PLACE_NAMES = frozenset({"Flemingsberg", "Hagastaden/Solna"})
"""Button titles that are the same in both languages because they are names."""

_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
_LETTERS = re.compile(r"[^\W\d_]{2,}")


def normalised(text: str) -> str:
    """``text`` compared for sameness: case, punctuation, quotes and spacing ignored."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(re.sub(r"[^\w{}]+", " ", text).split())


def placeholders(variation: dict[str, Any]) -> Counter[str]:
    """The ``{variables}`` of a variation's text and button payloads, with their counts."""
    parts = [variation.get("text", "")] + [button.get("payload", "") for button in variation.get("buttons", [])]
    return Counter(name for part in parts for name in _PLACEHOLDER.findall(part))


def has_words(text: str) -> bool:
    """Whether ``text`` says anything of its own besides its placeholders (``{rank}. {name}`` does not)."""
    return bool(_LETTERS.search(_PLACEHOLDER.sub(" ", text)))


def language_problems(responses: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What keeps ``responses`` from being complete in both languages, one line per fault (none: all good)."""
    problems = []
    for name, variations in responses.items():
        by_language: dict[str, dict[str | None, dict[str, Any]]] = {"en": {}, "sv": {}}
        for variation in variations:
            if "condition" not in variation:
                language = "en"
            elif is_swedish(variation):
                language = "sv"
            else:
                problems.append(f"{name}: a condition other than {LANGUAGE_SLOT} = {SWEDISH}: {variation['condition']}")
                continue
            channel = variation.get("channel")
            if channel in by_language[language]:
                problems.append(f"{name}: two {language} variations for channel {channel}")
            by_language[language][channel] = variation
        for channel in sorted(set(by_language["en"]) | set(by_language["sv"]), key=str):
            where = f"{name} (channel {channel})" if channel else name
            english, swedish = by_language["en"].get(channel), by_language["sv"].get(channel)
            if english is None or swedish is None:
                problems.append(f"{where}: no {'English' if english is None else 'Swedish'} variation")
                continue
            problems += [f"{where}: {fault}" for fault in _pair_problems(english, swedish)]
    return problems


def _pair_problems(english: dict[str, Any], swedish: dict[str, Any]) -> list[str]:
    faults = []
    en_text, sv_text = english.get("text", ""), swedish.get("text", "")
    if has_words(en_text) and normalised(en_text) == normalised(sv_text):
        faults.append(f"the Swedish text is the English one: {sv_text!r}")
    if placeholders(english) != placeholders(swedish):
        faults.append(f"placeholders differ: English {dict(placeholders(english))}, "
                      f"Swedish {dict(placeholders(swedish))}")
    en_buttons, sv_buttons = english.get("buttons", []), swedish.get("buttons", [])
    if len(en_buttons) != len(sv_buttons):
        faults.append(f"{len(en_buttons)} English buttons, {len(sv_buttons)} Swedish")
    for en_button, sv_button in zip(en_buttons, sv_buttons):
        title = sv_button.get("title", "")
        if title not in PLACE_NAMES and normalised(title) == normalised(en_button.get("title", "")):
            faults.append(f"the Swedish button title is the English one: {title!r}")
        if en_button["payload"].startswith("/") and sv_button.get("payload") != en_button["payload"]:
            faults.append(f"an intent payload differs: {en_button['payload']!r} in English, "
                          f"{sv_button.get('payload')!r} in Swedish")
    if set(english) - {"condition"} != set(swedish) - {"condition"}:
        faults.append(f"different parts: English {sorted(english)}, Swedish {sorted(swedish)}")
    return faults


def test_every_response_of_the_domain_is_in_english_and_in_swedish() -> None:
    assert language_problems(load_domain()["responses"]) == []


def test_the_language_slot_takes_english_and_swedish_and_a_change_of_language_is_answered() -> None:
    domain = load_domain()
    slot = domain["slots"][LANGUAGE_SLOT]
    assert (slot["type"], slot["values"], slot["influence_conversation"]) == ("categorical", ["en", "sv"], False)
    assert "utter_language_switched" in domain["responses"]


SV = [{"type": "slot", "name": LANGUAGE_SLOT, "value": SWEDISH}]
GOOD: dict[str, list[dict[str, Any]]] = {
    "utter_greet": [{"condition": SV, "text": "Hej!"}, {"text": "Hi!"}],
    "utter_hit": [
        {"condition": SV, "text": "{rank}. {name}",
         "buttons": [{"title": "Läs mer", "payload": '/ask_details{{"position": "{rank}"}}'}]},
        {"text": "{rank}. {name}",
         "buttons": [{"title": "Details", "payload": '/ask_details{{"position": "{rank}"}}'}]},
    ],
    "utter_site_unknown": [
        {"condition": SV, "text": "Vilken plats?", "buttons": [{"title": "Flemingsberg", "payload": "/restrict_site"}]},
        {"text": "Which site?", "buttons": [{"title": "Flemingsberg", "payload": "/restrict_site"}]},
    ],
    "utter_ask_clarify": [
        {"condition": SV, "text": "Berätta mer.", "buttons": [{"title": "Labb", "payload": "analyser i labb"}]},
        {"text": "Tell me more.", "buttons": [{"title": "Lab", "payload": "lab analysis"}]},
    ],
    "utter_welcome": [
        {"condition": SV, "text": "Välkommen!", "channel": "slack"}, {"text": "Welcome!", "channel": "slack"},
        {"condition": SV, "text": "Välkommen hit!"}, {"text": "Welcome here!"},
    ],
}


def _broken(change) -> dict[str, list[dict[str, Any]]]:
    responses = copy.deepcopy(GOOD)
    change(responses)
    return responses


BROKEN = {
    "no Swedish": (lambda r: r["utter_greet"].pop(0), "utter_greet: no Swedish variation"),
    "no English": (lambda r: r["utter_greet"].pop(1), "utter_greet: no English variation"),
    "Swedish copied from English": (lambda r: r["utter_greet"][0].update(text="hi"),
                                    "utter_greet: the Swedish text is the English one"),
    "a placeholder lost": (lambda r: r["utter_hit"][0].update(text="{rank}. Namn"), "utter_hit: placeholders differ"),
    "a button lost": (lambda r: r["utter_ask_clarify"][0]["buttons"].pop(),
                      "utter_ask_clarify: 1 English buttons, 0 Swedish"),
    "a button title copied": (lambda r: r["utter_hit"][0]["buttons"][0].update(title="Details"),
                              "utter_hit: the Swedish button title is the English one"),
    "an intent payload translated": (lambda r: r["utter_site_unknown"][0]["buttons"][0].update(payload="/begränsa"),
                                     "utter_site_unknown: an intent payload differs"),
    "a channel's Swedish missing": (lambda r: r["utter_welcome"].pop(0),
                                    "utter_welcome (channel slack): no Swedish variation"),
    "another condition": (lambda r: r["utter_greet"].append({"condition": [{**SV[0], "value": "en"}], "text": "Hey!"}),
                          "utter_greet: a condition other than"),
    "a part only in English": (lambda r: r["utter_greet"][1].update(image="https://example.org/a.png"),
                               "utter_greet: different parts"),
}


def test_the_check_passes_a_complete_domain() -> None:
    assert language_problems(GOOD) == []


@pytest.mark.parametrize("fault", list(BROKEN))
def test_the_check_names_each_fault(fault: str) -> None:
    change, expected = BROKEN[fault]
    problems = language_problems(_broken(change))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


DRIVER = r"""
import asyncio, json
from rasa.core.actions.action import ActionRetrieveResponse, RemoteAction, action_for_name_or_text
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

domain = Domain.load("domain.yml")
nlg = TemplatedNaturalLanguageGenerator(domain.responses)
variations = ResponseVariationFilter(domain.responses)
FAQ = "utter_faq/privacy"
SELECTOR = {"response_selector": {"faq": {"response": {"utter_action": FAQ, "responses": [], "confidence": 1.0}}}}

def tracker(language):
    events = [UserUttered("?", {"name": "faq", "confidence": 1.0}, parse_data={**SELECTOR, "intent": {"name": "faq"}})]
    if language is not None:
        events.insert(0, SlotSet("language", language))
    return DialogueStateTracker.from_events("user", events, domain.slots)

async def said(language):
    out = CollectingOutputChannel()
    t = tracker(language)
    told = {}
    for name in ("utter_greet", "utter_ask_email"):  # a plain response and a form's question
        [event] = await action_for_name_or_text(name, domain, None).run(out, nlg, t, domain)
        told[name] = event.text
    [event] = await ActionRetrieveResponse("utter_faq").run(out, nlg, t, domain)
    told[FAQ] = event.text
    # A validation message a custom action (the form's validator) names.
    [event] = await RemoteAction._utter_responses([{"response": "utter_invalid_email"}], out, nlg, t)
    told["utter_invalid_email"] = event.text
    return told

candidates = {}
for language in (None, "en", "sv"):
    for channel in ("rest", "socketio", "slack", "botframework"):
        slots = {"language": language}
        candidates[f"{language}/{channel}"] = {
            name: [v.get("condition") is not None for v in variations.responses_for_utter_action(name, channel, slots)]
            for name in domain.responses}
print(json.dumps({"said": {str(l): asyncio.run(said(l)) for l in (None, "en", "sv")}, "candidates": candidates}))
"""


@pytest.mark.integration
def test_rasa_says_only_the_swedish_variation_when_the_language_is_swedish() -> None:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    responses = load_domain()["responses"]
    for key, by_name in result["candidates"].items():
        swedish = key.startswith("sv/")
        # Exactly one candidate each time, so Rasa's random choice among them cannot pick the other language.
        assert all(flags == [swedish] for flags in by_name.values()), (key, by_name)
    for language, told in result["said"].items():
        for name, text in told.items():
            variation = next(v for v in responses[name] if is_swedish(v) == (language == "sv"))
            assert text == variation["text"], (language, name)
