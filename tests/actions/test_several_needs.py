"""A message that holds several needs: the search action answers each need with its own matches."""

from __future__ import annotations

from actions.search import ActionSearchCatalogue
from tests.actions.conftest import make_tracker, responses, slot_events

TWO_NEEDS = "We need cryo electron microscopy of a membrane protein, and later we'll need GMP manufacturing of viral vectors"


async def test_each_need_gets_its_heading_and_its_own_matches(sample_engine, dispatcher) -> None:
    events = await ActionSearchCatalogue(sample_engine).run(dispatcher, make_tracker(TWO_NEEDS), {})
    names = responses(dispatcher)
    assert names[0] == "utter_results_several_needs" and dispatcher.messages[0]["count"] == 2
    assert names.count("utter_results_part") == 2 and names[-1] == "utter_results_options"
    headings = [i for i, name in enumerate(names) if name == "utter_results_part"]
    first_part = dispatcher.messages[headings[0] + 1:headings[1]]
    second_part = [m for m in dispatcher.messages[headings[1] + 1:] if m.get("response") == "utter_hit"]
    assert first_part[0]["name"] == "Cryo-EM unit" and second_part[0]["name"] == "Vecura"
    assert "cryo" in dispatcher.messages[headings[0]]["topic"] and "GMP" in dispatcher.messages[headings[1]]["topic"]
    # Numbered on across the needs; the slots list the hits in the order shown, so positions name one hit.
    ranks = [int(m["rank"]) for m in dispatcher.messages if m.get("response") == "utter_hit"]
    assert ranks == list(range(1, len(ranks) + 1))
    slots = slot_events(events)
    assert slots["last_hits"][0] == "cryo-em-solna" and slots["last_hits"][len(first_part)] == "vecura-gmp"
    assert slots["need"] == TWO_NEEDS
    payload = dispatcher.messages[-1]["custom"]
    assert [hit["id"] for hit in payload["hits"]] == slots["last_hits"]
    assert [hit["rank"] for hit in payload["hits"]] == ranks


async def test_a_single_need_is_answered_as_before(sample_engine, dispatcher) -> None:
    await ActionSearchCatalogue(sample_engine).run(dispatcher, make_tracker(
        "GMP manufacturing of viral vectors and later also technology transfer of the process"), {})
    assert responses(dispatcher)[0] == "utter_results_intro"
    assert "utter_results_part" not in responses(dispatcher)


async def test_markup_in_a_need_is_not_echoed_in_its_heading(sample_engine, dispatcher) -> None:
    text = "cryo electron microscopy of <b>membrane</b> proteins, and later we'll need <script>GMP</script> manufacturing"
    await ActionSearchCatalogue(sample_engine).run(dispatcher, make_tracker(text), {})
    topics = [m["topic"] for m in dispatcher.messages if m.get("response") == "utter_results_part"]
    assert topics and all("<" not in topic for topic in topics)
