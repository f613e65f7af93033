"""The search actions note unmet demand: a need still weak after the clarifying question, and "none of these
fit"; a good match is not noted, and a broken log never breaks the conversation.

The log is on SQLite and on PostgreSQL (``request_db_url`` in tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import logging

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from actions.registry import build_actions
from actions.search import ActionNoneFit, ActionSearchCatalogue, SearchPolicy
from support_requests.store import RequestStore
from tests.actions.conftest import make_tracker, responses, slot_events
from support_requests.demand import DemandLog, UnmetReason
from support_requests.recorder import DemandRecorder


@pytest.fixture
def store(request_db_url: str) -> RequestStore:
    store = RequestStore.from_url(request_db_url)
    yield store
    store.close()


@pytest.fixture
def demand(store: RequestStore) -> DemandLog:
    return DemandLog(store.engine)


@pytest.fixture
def recorder(demand: DemandLog) -> DemandRecorder:
    return DemandRecorder(demand)


async def run(action, dispatcher, tracker):
    return await action.run(dispatcher, tracker, {})


async def test_a_need_still_weak_after_clarifying_is_noted(sample_engine, recorder, demand, dispatcher) -> None:
    tracker = make_tracker("organoid toxicity screening", slots={"need": "cells", "awaiting_clarification": True},
                           sender="conv-weak")
    events = await run(ActionSearchCatalogue(sample_engine, demand=recorder), dispatcher, tracker)
    assert "utter_hit" in responses(dispatcher)  # the company still sees the best there is
    [need] = demand.needs()
    assert (need.need, need.reason) == ("cells organoid toxicity screening", UnmetReason.WEAK)
    assert need.best_entry_id == slot_events(events)["last_hits"][0]
    assert need.best_score is not None and need.best_score < SearchPolicy().min_similarity
    with demand.engine.connect() as connection:
        key = connection.execute(text("SELECT conversation_key FROM unmet_needs")).scalar_one()
    assert key == hashlib.sha256(b"conv-weak").hexdigest()


async def test_a_vague_first_message_is_asked_about_not_noted(sample_engine, recorder, demand, dispatcher) -> None:
    await run(ActionSearchCatalogue(sample_engine, demand=recorder), dispatcher,
              make_tracker("help zebrafish husbandry tanks"))
    assert responses(dispatcher) == ["utter_ask_clarify"]
    assert demand.needs() == []


@pytest.mark.parametrize(("text", "slots"), [
    ("GMP manufacturing of viral vectors and cell therapy", {}),
    ("flow cytometry sorting", {"need": "cells", "awaiting_clarification": True}),
])
async def test_a_good_match_is_not_noted(sample_engine, recorder, demand, dispatcher, text, slots) -> None:
    await run(ActionSearchCatalogue(sample_engine, demand=recorder), dispatcher, make_tracker(text, slots=slots))
    assert "utter_hit" in responses(dispatcher)
    assert demand.needs() == []


async def test_none_fit_is_noted_with_the_rejected_result(sample_engine, recorder, demand, dispatcher) -> None:
    tracker = make_tracker("none of these", intent="none_fit", sender="conv-none",
                           slots={"need": "cell sorting flow cytometry",
                                  "last_hits": ["flow-flemingsberg", "flow-biomedicum"],
                                  "shown_ids": ["flow-flemingsberg", "flow-biomedicum"]})
    await run(ActionNoneFit(sample_engine, demand=recorder), dispatcher, tracker)
    assert responses(dispatcher)[0] == "utter_none_fit"
    [need] = demand.needs()
    assert (need.need, need.reason, need.best_entry_id, need.best_score) == (
        "cell sorting flow cytometry", UnmetReason.NONE_FIT, "flow-flemingsberg", None)


async def test_none_fit_twice_in_a_conversation_is_noted_once(sample_engine, recorder, demand) -> None:
    slots = {"need": "cell sorting flow cytometry", "shown_ids": ["flow-flemingsberg"]}
    for _ in range(2):
        await run(ActionNoneFit(sample_engine, demand=recorder), CollectingDispatcher(),
                  make_tracker("something else", intent="none_fit", slots=slots))
    assert len(demand.needs()) == 1


async def test_none_fit_without_a_search_notes_nothing(sample_engine, recorder, demand, dispatcher) -> None:
    await run(ActionNoneFit(sample_engine, demand=recorder), dispatcher, make_tracker("none fit", intent="none_fit"))
    assert responses(dispatcher) == ["utter_no_search_yet"]
    assert demand.needs() == []


async def test_a_broken_log_never_breaks_the_conversation(sample_engine, store, recorder, caplog) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE unmet_needs"))
    weak = make_tracker("organoid toxicity screening", slots={"need": "cells", "awaiting_clarification": True})
    none_fit = make_tracker("none of these", intent="none_fit",
                            slots={"need": "cell sorting flow cytometry", "shown_ids": ["flow-flemingsberg"]})
    with caplog.at_level(logging.WARNING):
        for action, tracker in [(ActionSearchCatalogue, weak), (ActionNoneFit, none_fit)]:
            with_log, without_log = CollectingDispatcher(), CollectingDispatcher()
            events = await run(action(sample_engine, demand=recorder), with_log, tracker)
            assert events == await run(action(sample_engine), without_log, tracker)
            assert with_log.messages == without_log.messages
    assert caplog.text.count("could not note an unmet need") == 2
    assert "organoid" not in caplog.text and "conversation-1" not in caplog.text


async def test_the_registry_gives_the_recorder_to_both_actions(sample_engine, store, recorder) -> None:
    actions = {a.name(): a for a in build_actions(sample_engine, store, advisors_email="advisors@example.org",
                                                  privacy_notice_version="2026-11", demand=recorder)}
    assert actions["action_search_catalogue"].demand is recorder and actions["action_none_fit"].demand is recorder
    without = {a.name(): a for a in build_actions(sample_engine, store, advisors_email="advisors@example.org",
                                                  privacy_notice_version="2026-11")}
    assert without["action_search_catalogue"].demand is None and without["action_none_fit"].demand is None
