from __future__ import annotations

import asyncio

import pytest

from actions.details import ActionShowContact, ActionShowDetails
from actions.handoff import ActionFlagForAdvisor
from actions.presenting import position_from
from tests.actions.conftest import make_tracker, responses, slot_events

LAST = ["flow-flemingsberg", "flow-biomedicum", "almi-loans"]


@pytest.mark.parametrize(
    ("text", "entities", "slots", "expected_id", "response"),
    [
        ("tell me more about the second one", [{"entity": "position", "value": "2"}], {"position": "2"},
         "flow-biomedicum", "utter_details"),
        ("details on the third", [], {}, "almi-loans", "utter_programme_details"),
        ("what does Vecura offer", [], {}, "vecura-gmp", "utter_details"),
        ("more about the last one", [], {}, "almi-loans", "utter_programme_details"),
        ("and its details?", [], {"selected_entry": "cryo-em-solna"}, "cryo-em-solna", "utter_details"),
    ],
)
async def test_details_by_position_name_or_context(sample_engine, dispatcher, text, entities, slots, expected_id,
                                                   response) -> None:
    tracker = make_tracker(text, intent="ask_details", entities=entities, slots={"last_hits": LAST, **slots})
    events = await ActionShowDetails(sample_engine).run(dispatcher, tracker, {})
    assert responses(dispatcher) == [response, "custom"]
    assert dispatcher.messages[0]["name"] == sample_engine.entry(expected_id).name
    assert dispatcher.messages[0]["url"].startswith("https://")
    assert slot_events(events) == {"selected_entry": expected_id, "position": None}


@pytest.mark.parametrize("text", ["tell me about the fifth one", "what about that", "details of ³",
                                  "details of ²5"])
async def test_details_of_nothing_known_ask_which(sample_engine, dispatcher, text) -> None:
    tracker = make_tracker(text, intent="ask_details", slots={"last_hits": LAST})
    await ActionShowDetails(sample_engine).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_which_entry"]


@pytest.mark.parametrize(("text", "position"), [("the ٢ one", 2), ("number 3 please", 3), ("x² and 2", 2),
                                                ("¹²", None), ("11", None)])
def test_a_position_is_read_from_decimal_digits_of_any_script_and_nothing_else(text, position) -> None:
    assert position_from(None, text) == position


async def test_contact_routes_to_the_role_mailbox(sample_engine, dispatcher) -> None:
    tracker = make_tracker("who do I contact about the first one", intent="ask_contact", slots={"last_hits": LAST})
    events = await ActionShowContact(sample_engine).run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_contact", "utter_contact_sample_note", "custom"]
    assert dispatcher.messages[0]["email"] == "contact-desk@example.org"
    assert dispatcher.messages[2]["custom"]["contact"] == "contact-desk"
    assert slot_events(events)["selected_entry"] == "flow-flemingsberg"


async def test_contact_of_an_expert_is_the_expert(sample_engine, dispatcher) -> None:
    tracker = make_tracker("how do I reach the contact desk", intent="ask_contact")
    await ActionShowContact(sample_engine).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["email"] == "contact-desk@example.org"


async def test_handoff_flags_the_conversation(dispatcher) -> None:
    events = await ActionFlagForAdvisor().run(dispatcher, make_tracker("a human please", intent="ask_human"), {})
    assert responses(dispatcher) == ["utter_handoff", "custom"]
    assert slot_events(events) == {"handoff_requested": True}


def test_a_distinctive_first_word_names_an_entry() -> None:
    import datetime as dt

    from actions.presenting import entry_named_in
    from index.catalogue import Entry, EntryType, Site

    def make(entry_id: str, name: str, kind: EntryType = EntryType.FACILITY) -> Entry:
        return Entry(id=entry_id, type=kind, name=name, organisation="KI", site=Site.FLEMINGSBERG, summary="s",
                     description="d", url="https://x.org", last_verified=dt.date(2026, 1, 1))

    entries = [make("vecura-gmp", "Vecura GMP facility"), make("contact-vecura", "Vecura business development",
                                                                EntryType.EXPERT),
               make("bm-imaging", "Biomedicum Imaging Core"), make("bm-flow", "Biomedicum flow cytometry")]
    assert entry_named_in("what does Vecura offer?", entries).id == "vecura-gmp"
    assert entry_named_in("tell me about Biomedicum", entries) is None  # two facilities: ambiguous
    assert entry_named_in("tell me about Biomedicum", entries, preferred=["bm-flow"]).id == "bm-flow"
    assert entry_named_in("the Biomedicum Imaging Core please", entries).id == "bm-imaging"
    assert entry_named_in("nothing relevant here", entries) is None


async def test_a_handoff_is_announced_without_making_the_company_wait(dispatcher) -> None:
    announced: list[str] = []
    release = asyncio.Event()

    async def notifier(conversation_id: str) -> bool:
        await release.wait()  # Slack is slow today
        announced.append(conversation_id)
        return True

    tracker = make_tracker("a human please", intent="ask_human")
    action = ActionFlagForAdvisor(notifier)
    events = await action.run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff", "custom"] and slot_events(events) == {"handoff_requested": True}
    assert announced == []  # answered before the announcement went out
    release.set()
    await asyncio.gather(*action._announcing)
    assert announced == [tracker.sender_id]


@pytest.mark.parametrize(("language", "name", "description"), [
    ("sv", "Kärnfaciliteten för flödescytometri", "Analys och cellsortering med flödescytometri."),
    ("en", "Flow cytometry core", "The core sorts and analyses cells by flow cytometry."),
    (None, "Flow cytometry core", "The core sorts and analyses cells by flow cytometry."),
])
async def test_details_are_shown_in_the_conversation_s_language(sample_engine, dispatcher, language, name,
                                                                description) -> None:
    tracker = make_tracker("berätta mer om den första", intent="ask_details",
                           slots={"last_hits": LAST, "position": "1", "language": language})
    await ActionShowDetails(sample_engine).run(dispatcher, tracker, {})
    shown = dispatcher.messages[0]
    assert shown["name"] == name and shown["description"].startswith(description)
