from __future__ import annotations

import pytest

from actions.search import (ActionNoneFit, ActionRestrictSite, ActionSearchCatalogue, ActionShowFunding,
                            ActionShowMore)
from tests.actions.conftest import make_tracker, responses, slot_events


async def run(action, dispatcher, tracker):
    return await action.run(dispatcher, tracker, {})


async def test_a_clear_need_gets_three_explained_hits_and_a_payload(sample_engine, dispatcher) -> None:
    events = await run(ActionSearchCatalogue(sample_engine), dispatcher,
                       make_tracker("GMP manufacturing of viral vectors and cell therapy"))
    assert responses(dispatcher) == ["utter_results_intro", "utter_hit", "utter_hit", "utter_hit",
                                     "utter_results_options"]
    first = dispatcher.messages[1]
    assert first["name"] == "Vecura" and first["rank"] == "1" and first["reason"]
    payload = dispatcher.messages[4]["custom"]  # carried by the options message
    assert payload["type"] == "search_results" and payload["hits"][0]["id"] == "vecura-gmp"
    assert {"score", "similarity"} <= set(payload["hits"][0])
    slots = slot_events(events)
    assert slots["last_hits"][0] == "vecura-gmp" and len(slots["last_hits"]) == 3
    assert slots["shown_ids"] == slots["last_hits"] and slots["need"].startswith("GMP")


@pytest.mark.parametrize("text", ["help", "cells", "???"])
async def test_a_vague_need_gets_one_clarifying_question(sample_engine, dispatcher, text) -> None:
    events = await run(ActionSearchCatalogue(sample_engine), dispatcher, make_tracker(text))
    assert responses(dispatcher) == ["utter_ask_clarify"]
    assert slot_events(events) == {"need": text, "awaiting_clarification": True}


async def test_the_answer_to_the_clarifying_question_is_added_to_the_need(sample_engine, dispatcher) -> None:
    tracker = make_tracker("flow cytometry sorting", slots={"need": "cells", "awaiting_clarification": True})
    events = await run(ActionSearchCatalogue(sample_engine), dispatcher, tracker)
    slots = slot_events(events)
    assert slots["awaiting_clarification"] is False and slots["need"] == "cells flow cytometry sorting"
    assert slots["last_hits"][0].startswith("flow-")


async def test_site_preference_is_a_filter(sample_engine, dispatcher) -> None:
    tracker = make_tracker("flow cytometry cell sorting", slots={"site": "hagastaden"})
    events = await run(ActionSearchCatalogue(sample_engine), dispatcher, tracker)
    assert responses(dispatcher)[0] == "utter_results_intro_filtered"
    assert dispatcher.messages[0]["filter_label"] == "Hagastaden/Solna"
    hits = slot_events(events)["last_hits"]
    assert hits[0] == "flow-biomedicum"  # the flow cytometry unit of the site, not merely nothing outside it
    assert set(hits) <= {"flow-biomedicum", "cryo-em-solna"}
    assert responses(dispatcher).count("utter_hit") == len(hits)


async def test_markup_in_the_need_is_not_echoed(sample_engine, dispatcher) -> None:
    await run(ActionSearchCatalogue(sample_engine), dispatcher,
              make_tracker("<script>alert(1)</script> flow cytometry cell sorting"))
    assert "<" not in dispatcher.messages[0]["need"]


async def test_an_overlong_message_is_searched_by_its_start(sample_engine, dispatcher) -> None:
    text = "flow cytometry cell sorting " * 200
    await run(ActionSearchCatalogue(sample_engine), dispatcher, make_tracker(text))
    assert responses(dispatcher)[0] == "utter_message_too_long"
    assert "utter_hit" in responses(dispatcher)


async def test_show_more_excludes_what_was_shown(sample_engine, dispatcher) -> None:
    tracker = make_tracker("more", intent="show_more",
                           slots={"need": "cell sorting flow cytometry", "shown_ids": ["flow-flemingsberg", "flow-biomedicum"]})
    events = await run(ActionShowMore(sample_engine), dispatcher, tracker)
    shown, hits = slot_events(events)["shown_ids"], slot_events(events)["last_hits"]
    assert hits and shown == ["flow-flemingsberg", "flow-biomedicum"] + hits
    assert not {"flow-flemingsberg", "flow-biomedicum"} & set(hits)
    assert responses(dispatcher).count("utter_hit") == len(hits)


async def test_show_more_when_all_was_shown(sample_engine, dispatcher) -> None:
    every = [e.id for e in sample_engine.entries()]
    tracker = make_tracker("more", intent="show_more", slots={"need": "cells", "shown_ids": every})
    assert slot_events(await run(ActionShowMore(sample_engine), dispatcher, tracker)) == {"need": "cells"}
    assert responses(dispatcher) == ["utter_no_more_results"]


@pytest.mark.parametrize("action", [ActionShowMore, ActionNoneFit])
async def test_follow_ups_without_a_need_ask_for_one(sample_engine, dispatcher, action) -> None:
    assert await run(action(sample_engine), dispatcher, make_tracker("more")) == []
    assert responses(dispatcher) == ["utter_no_search_yet"]


async def test_none_fit_is_noted_and_offers_others(sample_engine, dispatcher) -> None:
    tracker = make_tracker("none of these", intent="none_fit", slots={"need": "flow cytometry", "shown_ids": ["flow-flemingsberg"]})
    events = await run(ActionNoneFit(sample_engine), dispatcher, tracker)
    assert responses(dispatcher)[:2] == ["utter_none_fit", "utter_results_intro"]
    hits = slot_events(events)["last_hits"]
    assert hits[0] == "flow-biomedicum"  # the other flow cytometry unit comes next
    assert "flow-flemingsberg" not in hits and responses(dispatcher).count("utter_hit") == len(hits)


@pytest.mark.parametrize(("value", "expected", "flow_unit"), [("Flemingsberg", "flemingsberg", "flow-flemingsberg"),
                                                             ("solna", "hagastaden", "flow-biomedicum")])
async def test_restrict_site_searches_again_there(sample_engine, dispatcher, value, expected, flow_unit) -> None:
    tracker = make_tracker(f"only {value}", intent="restrict_site", slots={"site": value, "need": "flow cytometry"})
    events = await run(ActionRestrictSite(sample_engine), dispatcher, tracker)
    slots = slot_events(events)
    assert slots["site"] == expected
    assert slots["last_hits"][0] == flow_unit  # the site's flow cytometry unit is found, not merely nothing else
    assert all(sample_engine.entry(i).site.value == expected for i in slots["last_hits"])
    assert responses(dispatcher)[0] == "utter_results_intro_filtered"
    assert responses(dispatcher).count("utter_hit") == len(slots["last_hits"])


async def test_restrict_to_an_unknown_site_asks_which(sample_engine, dispatcher) -> None:
    events = await run(ActionRestrictSite(sample_engine), dispatcher,
                       make_tracker("only Mars", intent="restrict_site", slots={"site": "Mars", "need": "x"}))
    assert responses(dispatcher) == ["utter_site_unknown"] and slot_events(events) == {"site": None}


async def test_restrict_site_before_any_need_keeps_it_and_asks(sample_engine, dispatcher) -> None:
    events = await run(ActionRestrictSite(sample_engine), dispatcher,
                       make_tracker("only Solna", intent="restrict_site", slots={"site": "solna"}))
    assert responses(dispatcher) == ["utter_ask_need"] and slot_events(events) == {"site": "hagastaden"}


async def test_funding_shows_only_programmes(sample_engine, dispatcher) -> None:
    tracker = make_tracker("any funding for this?", intent="ask_funding", slots={"need": "develop a new product loans"})
    events = await run(ActionShowFunding(sample_engine), dispatcher, tracker)
    assert responses(dispatcher)[:2] == ["utter_funding_intro", "utter_programme_hit"]
    slots = slot_events(events)
    assert slots["entry_types"] == ["programme"] and slots["last_hits"] == ["almi-loans"]


async def test_a_swedish_conversation_sees_swedish_names_and_reasons(sample_engine, dispatcher) -> None:
    tracker = make_tracker("flödescytometri och cellsortering", slots={"language": "sv"})
    await run(ActionSearchCatalogue(sample_engine), dispatcher, tracker)
    hits = [m for m in dispatcher.messages if m.get("response") == "utter_hit"]
    by_name = {m["name"]: m for m in hits}
    assert "Kärnfaciliteten för flödescytometri" in by_name, "the Swedish name where the entry has one"
    flemingsberg = by_name["Kärnfaciliteten för flödescytometri"]
    assert flemingsberg["reason"] == "Analys och cellsortering med flödescytometri."
    solna = [m for m in hits if m["name"] == "Flow Cytometry Core Solna" or "Solna" in m["reason"]]
    assert solna and solna[0]["reason"] == "Flödescytometri och cellsortering i Solna."
    # The payload that Slack and Teams draw their cards from says the same.
    payload = {hit["id"]: hit for hit in dispatcher.messages[-1]["custom"]["hits"]}
    assert payload["flow-flemingsberg"]["name"] == "Kärnfaciliteten för flödescytometri"
    assert payload["flow-flemingsberg"]["reason"] == "Analys och cellsortering med flödescytometri."


async def test_an_english_conversation_keeps_the_english_names_and_reasons(sample_engine, dispatcher) -> None:
    await run(ActionSearchCatalogue(sample_engine), dispatcher, make_tracker("flow cytometry cell sorting"))
    reasons = [m["reason"] for m in dispatcher.messages if m.get("response") == "utter_hit"]
    assert reasons and not any("flödescytometri" in r.lower() for r in reasons)
    assert "Kärnfaciliteten för flödescytometri" not in [m.get("name") for m in dispatcher.messages]
