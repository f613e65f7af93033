"""Turning engine results into the variables of the domain's responses. No Rasa imports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from actions.conversation_language import SWEDISH
from index.catalogue import Entry, EntryType, Site
from index.engine import Hit
from index.text import clean_text

ECHO_CHARS = 120
_ORDINALS = {
    "first": 1, "1st": 1, "one": 1, "första": 1, "forsta": 1, "top": 1,
    "second": 2, "2nd": 2, "two": 2, "andra": 2,
    "third": 3, "3rd": 3, "three": 3, "tredje": 3,
    "fourth": 4, "4th": 4, "four": 4, "fjärde": 4,
    "fifth": 5, "5th": 5, "five": 5, "femte": 5,
    "last": -1, "sista": -1,
}


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """User text made safe to show back: markup and control characters removed, shortened."""
    cleaned = clean_text(text or "")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rsplit(" ", 1)[0] + "…"


def shown_name_and_reason(hit: Hit, language: str | None) -> tuple[str, str]:
    """The name and reason a conversation in ``language`` is shown: for Swedish (``sv``) the entry's Swedish
    name and a sentence of its Swedish summary, where it has them; else the English ones."""
    if language == SWEDISH:
        return hit.entry.name_sv or hit.entry.name, hit.explanation.reason_sv or hit.explanation.reason
    return hit.entry.name, hit.explanation.reason


def hit_variables(hit: Hit, rank: int, language: str | None = None) -> dict[str, str]:
    """The variables of ``utter_hit`` and ``utter_programme_hit``, in the conversation's ``language`` (see
    :func:`shown_name_and_reason`)."""
    entry = hit.entry
    name, reason = shown_name_and_reason(hit, language)
    return {
        "rank": str(rank),
        "name": name,
        "organisation": entry.organisation,
        "site": site_label(entry),
        "reason": reason,
        "terms": ", ".join(hit.explanation.terms),
        "eligibility": entry.eligibility,
    }


def hits_payload(need: str, hits: Sequence[Hit], filters: dict[str, object],
                 language: str | None = None) -> dict[str, object]:
    """The machine-readable companion of a result list (sent as the message's custom payload): each hit in its
    one JSON shape (:meth:`index.engine.Hit.to_dict`), with ``rank`` its position in the list shown and ``name``
    and ``reason`` as the conversation's ``language`` shows them (the Slack and Teams cards are drawn from it)."""
    shown = []
    for position, hit in enumerate(hits, start=1):
        name, reason = shown_name_and_reason(hit, language)
        shown.append({**hit.to_dict(), "rank": position, "name": name, "reason": reason})
    return {"type": "search_results", "need": need, "filters": filters, "hits": shown}


def site_label(entry: Entry) -> str:
    """Flemingsberg or Hagastaden/Solna; for entries elsewhere, where they are (such as Uppsala)."""
    if entry.site is Site.ELSEWHERE and entry.location:
        return entry.location
    return entry.site.label


def details_variables(entry: Entry, rank: int | None, language: str | None = None) -> dict[str, str]:
    """The variables of ``utter_details`` and ``utter_programme_details``; for a Swedish conversation the
    entry's Swedish name and its Swedish summary in place of the (English) description, where it has them."""
    swedish = language == SWEDISH
    return {
        "rank": str(rank or ""),
        "name": (entry.name_sv or entry.name) if swedish else entry.name,
        "organisation": entry.organisation,
        "site": entry.location or entry.site.label,
        "description": (entry.summary_sv or entry.description) if swedish else entry.description,
        "services": "; ".join(entry.services) or "-",
        "access": entry.access or "-",
        "eligibility": entry.eligibility or "-",
        "how_to_apply": entry.how_to_apply or "-",
        "url": entry.url,
    }


def position_from(value: object, text: str = "") -> int | None:
    """A 1-based position from an entity value ("2", "second") or from the words of ``text``; -1 means the last."""
    for candidate in ([str(value)] if value not in (None, "") else []) + re.findall(r"[\wåäö]+", text.lower()):
        word = candidate.strip().lower()
        # isdecimal, not isdigit: superscripts ("²") are digits that int() does not read.
        if word.isdecimal() and 1 <= int(word) <= 10:
            return int(word)
        if word in _ORDINALS:
            return _ORDINALS[word]
    return None


def pick(ids: Sequence[str], position: int | None) -> str | None:
    """The id at a 1-based ``position`` (-1 for the last), or ``None`` when out of range."""
    if position is None or not ids:
        return None
    if position == -1:
        return ids[-1]
    return ids[position - 1] if 1 <= position <= len(ids) else None


def _mentions(text: str, phrase: str) -> bool:
    return bool(re.search(r"(?<![\wåäö])" + re.escape(phrase) + r"(?![\wåäö])", text))


def entry_named_in(text: str, entries: Iterable[Entry], preferred: Sequence[str] = ()) -> Entry | None:
    """The entry the text names, or ``None``.

    A full name (or id) in the text wins, the longest first. Otherwise the first word of a name counts when it is
    distinctive ("Vecura" for "Vecura GMP facility"): if several entries share it, the one among ``preferred``
    (the results on screen) wins, then the only one that is not an expert; anything else is ambiguous.
    """
    lowered = " " + re.sub(r"\s+", " ", clean_text(text).lower()) + " "
    entries = list(entries)
    full = [e for e in entries for name in (e.name.lower(), e.id.replace("-", " ")) if len(name) >= 3
            and _mentions(lowered, name)]
    if full:
        return max(full, key=lambda e: len(e.name))
    by_word: dict[str, list[Entry]] = {}
    for entry in entries:
        first = entry.name.split()[0].lower().strip(",.:()")
        by_word.setdefault(first, []).append(entry)
    for word, owners in by_word.items():
        if len(word) < 4 or not _mentions(lowered, word):
            continue
        shown = [e for e in owners if e.id in preferred]
        if len(shown) == 1:
            return shown[0]
        not_experts = [e for e in owners if e.type is not EntryType.EXPERT]
        if len(not_experts) == 1:
            return not_experts[0]
    return None
