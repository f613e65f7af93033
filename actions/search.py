"""Actions that search the catalogue: a need, more results, a site, funding, and "none of these fit"."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.demand import NeedRecorder
from actions.presenting import echo, hit_variables, hits_payload
from index.catalogue import EntryType, Site
from index.engine import Hit, PartHits, SearchEngine, SearchFilters
from index.errors import QueryError


log = logging.getLogger(__name__)

RESULTS_PER_TURN = 3


@dataclass(frozen=True)
class SearchPolicy:
    """When a need is too vague to search, and how long a message may be.

    A need is vague when nothing matches it well (best similarity under ``min_similarity``), or when it
    has fewer than ``min_terms`` searchable words and even its best match is not a close one (under
    ``close_similarity``): "cells" or "testing" are vague, "proteomics" is not. The defaults were read off
    the default model's similarities on the shipped catalogue.

    Attributes:
        min_terms: needs with fewer searchable words than this must match closely.
        min_similarity: below this best cosine similarity every need is vague.
        close_similarity: the best similarity that makes a one-word need specific.
        max_chars: longer messages are cut to this many characters before searching.
    """

    min_terms: int = 2
    min_similarity: float = 0.30
    close_similarity: float = 0.60
    max_chars: int = 2000


def _filters(tracker: Tracker, **extra: Any) -> SearchFilters:
    site = tracker.get_slot(slots.SITE)
    sites = frozenset()
    if site:
        try:
            sites = frozenset({Site.parse(str(site))})
        except ValueError:
            sites = frozenset()
    types = frozenset(EntryType(t) for t in tracker.get_slot(slots.ENTRY_TYPES) or [] if t in EntryType._value2member_map_)
    return SearchFilters(sites=sites, types=types, **extra)


def _filter_label(filters: SearchFilters) -> str:
    return " and ".join(sorted(s.label for s in filters.sites))


async def _search(engine: SearchEngine, text: str, filters: SearchFilters, top: int) -> list[Hit]:
    # The model and FAISS release the GIL; a worker thread keeps the server answering other conversations.
    return await asyncio.get_running_loop().run_in_executor(None, partial(engine.search, text, top=top, filters=filters))


async def _search_parts(engine: SearchEngine, text: str, filters: SearchFilters, top: int) -> list[PartHits]:
    return await asyncio.get_running_loop().run_in_executor(
        None, partial(engine.search_parts, text, top=top, filters=filters))


def _present(dispatcher: CollectingDispatcher, need: str, hits: list[Hit], filters: SearchFilters,
             intro: str = "utter_results_intro", hit_response: str = "utter_hit", language: str | None = None) -> None:
    label = _filter_label(filters)
    if label and intro == "utter_results_intro":
        dispatcher.utter_message(response="utter_results_intro_filtered", need=echo(need), filter_label=label)
    else:
        dispatcher.utter_message(response=intro, need=echo(need))
    for rank, hit in enumerate(hits, start=1):
        dispatcher.utter_message(response=hit_response, **hit_variables(hit, rank, language))
    _offer_options(dispatcher, need, hits, filters, language)


def _present_parts(dispatcher: CollectingDispatcher, need: str, parts: list[PartHits], filters: SearchFilters,
                   language: str | None = None) -> None:
    """A message with several needs: a heading per need and its hits, numbered on across the needs so that
    "details of 4" names one hit."""
    dispatcher.utter_message(response="utter_results_several_needs", count=len(parts))
    rank = 0
    for part in parts:
        dispatcher.utter_message(response="utter_results_part", topic=echo(part.need.topic))
        for hit in part.hits:
            rank += 1
            dispatcher.utter_message(response="utter_hit", **hit_variables(hit, rank, language))
    _offer_options(dispatcher, need, [hit for part in parts for hit in part.hits], filters, language)


def _offer_options(dispatcher: CollectingDispatcher, need: str, hits: list[Hit], filters: SearchFilters,
                   language: str | None = None) -> None:
    # The machine-readable hits ride on the options message: one bot event fewer for Rasa to render and store,
    # while channels still deliver the payload as a message of its own.
    dispatcher.utter_message(
        response="utter_results_options",
        json_message=hits_payload(need, hits, {"sites": sorted(s.value for s in filters.sites),
                                               "types": sorted(t.value for t in filters.types)}, language))


class _SearchAction(Action):
    def __init__(self, engine: SearchEngine, policy: SearchPolicy = SearchPolicy()):
        self.engine = engine
        self.policy = policy

    def name(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, need: str, filters: SearchFilters,
                   *, exclude_shown: bool = False, intro: str = "utter_results_intro",
                   hit_response: str = "utter_hit", empty: str = "utter_no_results",
                   hits: list[Hit] | None = None) -> list[EventType]:
        """Search ``need`` (unless its ``hits`` are given), present up to three hits and remember them; say
        ``empty`` when nothing is found."""
        shown = list(tracker.get_slot(slots.SHOWN_IDS) or []) if exclude_shown else []
        if shown:
            filters = SearchFilters(sites=filters.sites, types=filters.types, exclude_ids=frozenset(shown))
        if hits is None:
            try:
                hits = await _search(self.engine, need, filters, RESULTS_PER_TURN)
            except QueryError:
                dispatcher.utter_message(response="utter_search_failed")
                return []
        if not hits:
            dispatcher.utter_message(response=empty)
            return [SlotSet(slots.NEED, need)]
        _present(dispatcher, need, hits, filters, intro, hit_response, tracker.get_slot(slots.LANGUAGE))
        ids = [h.entry.id for h in hits]
        return [SlotSet(slots.NEED, need), SlotSet(slots.LAST_HITS, ids), SlotSet(slots.SHOWN_IDS, shown + ids)]


class ActionSearchCatalogue(_SearchAction):
    """Search for the need in the latest message; ask one clarifying question first if it is vague.

    A need still weak after the clarifying question (or one that matches nothing) is noted as unmet demand
    through ``demand``, when one is given.
    """

    def __init__(self, engine: SearchEngine, policy: SearchPolicy = SearchPolicy(),
                 demand: NeedRecorder | None = None):
        super().__init__(engine, policy)
        self.demand = demand

    def name(self) -> str:
        return "action_search_catalogue"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        too_long = len(text) > self.policy.max_chars
        text = text[: self.policy.max_chars]
        clarifying = bool(tracker.get_slot(slots.AWAITING_CLARIFICATION))
        need = f"{tracker.get_slot(slots.NEED) or ''} {text}".strip() if clarifying else text
        if too_long:
            dispatcher.utter_message(response="utter_message_too_long")
        events: list[EventType] = [SlotSet(slots.AWAITING_CLARIFICATION, False), SlotSet(slots.ENTRY_TYPES, None)]
        filters = _filters(tracker)
        try:
            # One search for a single need; one per need when the message holds several.
            parts: list[PartHits] | None = await _search_parts(self.engine, need, filters, RESULTS_PER_TURN)
        except QueryError:
            parts = None
        if parts is not None and len(parts) > 1:
            return events + await self._present_several(dispatcher, tracker, need, parts, filters)
        hits = parts[0].hits if parts else None
        if not clarifying and self._is_vague(need, hits):
            dispatcher.utter_message(response="utter_ask_clarify")
            return [SlotSet(slots.NEED, need), SlotSet(slots.AWAITING_CLARIFICATION, True)]
        if hits is None:
            dispatcher.utter_message(response="utter_search_failed")
            return events
        await self._note_if_weak(need, hits, tracker)
        return events + await self.show(dispatcher, tracker, need, filters, hits=hits)

    async def _present_several(self, dispatcher: CollectingDispatcher, tracker: Tracker, need: str,
                               parts: list[PartHits], filters: SearchFilters) -> list[EventType]:
        """Each need of the message with its own best matches; a weak one is noted like a weak single need."""
        for part in parts:
            await self._note_if_weak(part.need.text, part.hits, tracker)
        _present_parts(dispatcher, need, parts, filters, tracker.get_slot(slots.LANGUAGE))
        ids = [hit.entry.id for part in parts for hit in part.hits]
        return [SlotSet(slots.NEED, need), SlotSet(slots.LAST_HITS, ids),
                SlotSet(slots.SHOWN_IDS, list(dict.fromkeys(ids)))]

    async def _note_if_weak(self, need: str, hits: list[Hit], tracker: Tracker) -> None:
        # Weak even after the clarifying question (a vague first message is asked about, not noted).
        if self.demand is not None and (not hits or (hits[0].similarity or 0.0) < self.policy.min_similarity):
            await self.demand.record_weak(need, hits, tracker.sender_id)

    def _is_vague(self, need: str, hits: list[Hit] | None) -> bool:
        """Whether to ask a clarifying question first (see :class:`SearchPolicy`); unsearchable text is vague."""
        if not hits:
            return True
        similarity = hits[0].similarity or 0.0
        if similarity < self.policy.min_similarity:
            return True
        return len(self.engine.terms(need)) < self.policy.min_terms and similarity < self.policy.close_similarity


class ActionShowMore(_SearchAction):
    """The next three results for the current need."""

    def name(self) -> str:
        return "action_show_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        need = tracker.get_slot(slots.NEED)
        if not need:
            dispatcher.utter_message(response="utter_no_search_yet")
            return []
        return await self.show(dispatcher, tracker, need, _filters(tracker), exclude_shown=True,
                               empty="utter_no_more_results")


class ActionNoneFit(_SearchAction):
    """Note that nothing fitted (as unmet demand, through ``demand`` when one is given), then offer other
    results or an advisor."""

    def __init__(self, engine: SearchEngine, policy: SearchPolicy = SearchPolicy(),
                 demand: NeedRecorder | None = None):
        super().__init__(engine, policy)
        self.demand = demand

    def name(self) -> str:
        return "action_none_fit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        need = tracker.get_slot(slots.NEED)
        if not need:
            dispatcher.utter_message(response="utter_no_search_yet")
            return []
        log.info("unmet need noted in conversation %s", tracker.sender_id)
        shown = list(tracker.get_slot(slots.SHOWN_IDS) or [])
        if self.demand is not None:
            rejected = list(tracker.get_slot(slots.LAST_HITS) or []) or shown
            await self.demand.record_none_fit(need, str(rejected[0]) if rejected else None, tracker.sender_id)
        filters = _filters(tracker, exclude_ids=frozenset(shown))
        try:
            hits = await _search(self.engine, need, filters, RESULTS_PER_TURN)
        except QueryError:
            hits = []
        if not hits:
            dispatcher.utter_message(response="utter_none_fit_no_more")
            return []
        dispatcher.utter_message(response="utter_none_fit")
        return await self.show(dispatcher, tracker, need, filters, exclude_shown=True, hits=hits)


class ActionRestrictSite(_SearchAction):
    """Keep only one site, and search the current need again there."""

    def name(self) -> str:
        return "action_restrict_site"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        value = tracker.get_slot(slots.SITE)
        try:
            site = Site.parse(str(value)) if value else None
        except ValueError:
            site = None
        if site is None:
            dispatcher.utter_message(response="utter_site_unknown")
            return [SlotSet(slots.SITE, None)]
        events: list[EventType] = [SlotSet(slots.SITE, site.value)]
        need = tracker.get_slot(slots.NEED)
        if not need:
            dispatcher.utter_message(response="utter_ask_need")
            return events
        filters = SearchFilters(sites=frozenset({site}), types=_filters(tracker).types)
        return events + await self.show(dispatcher, tracker, need, filters)


class ActionShowFunding(_SearchAction):
    """Support programmes for the current need (or for the message itself when there is none)."""

    def name(self) -> str:
        return "action_show_funding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        need = tracker.get_slot(slots.NEED) or tracker.latest_message.get("text") or ""
        filters = SearchFilters(types=frozenset({EntryType.PROGRAMME}))
        events = await self.show(dispatcher, tracker, need, filters, intro="utter_funding_intro",
                                 hit_response="utter_programme_hit")
        return [SlotSet(slots.ENTRY_TYPES, [EntryType.PROGRAMME.value])] + events
