"""Why an entry matched: one readable sentence of the entry's own text, and the words it shares with the query.

The reason shown to a company is always a sentence of the entry's summary or description, never its
keywords, its list of services or its name line: those help matching, but read as a list, not as an answer.
The sentence chosen is the one that bears most on the need (see :func:`best_sentence`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from index.catalogue import Entry
from index.text import Term, TextProcessor

MAX_REASON_CHARS = 220
MAX_TERMS = 6
MIN_REASON_WORDS = 4
# Where a long sentence may be cut so that what is left still reads as a phrase.
_CLAUSE_END = re.compile(r"(?:[,;:]| –| —)\s")


@dataclass(frozen=True)
class Explanation:
    """Short enough for a chat message.

    Attributes:
        reason: one sentence of the entry's summary or description, the one that bears most on the need, at
            most about 220 characters (a longer sentence is cut at a clause or word and ends with "…"). Never
            the entry's name line, keywords or list of services.
        terms: the query's own words (as typed) that the entry also uses, in query order.
        reason_sv: the sentence of the entry's Swedish summary that bears most on the need, cut like ``reason``,
            for Swedish users; ``""`` when the entry has no Swedish summary.
    """

    reason: str
    terms: tuple[str, ...]
    reason_sv: str = ""


@dataclass(frozen=True)
class ReasonSentence:
    """A sentence an entry's reason may be.

    Attributes:
        text: the sentence as written in the catalogue.
        lemmas: its searchable words.
        passage: the position of the entry's indexed passage that holds it, whose dense similarity to the query
            stands for the sentence's; ``None`` when no passage holds it whole.
        position: its place in the entry (summary first), the last tie-breaker.
    """

    text: str
    lemmas: frozenset[str]
    passage: int | None
    position: int


def shared_terms(query_terms: Sequence[Term], entry_lemmas: Iterable[str], limit: int = MAX_TERMS) -> tuple[str, ...]:
    """The query words whose lemma occurs in the entry, as typed, without repeats, in query order."""
    vocabulary = set(entry_lemmas)
    seen: set[str] = set()
    shared = []
    for term in query_terms:
        if term.lemma in vocabulary and term.lemma not in seen:
            seen.add(term.lemma)
            shared.append(term.surface)
            if len(shared) == limit:
                break
    return tuple(shared)


def reason_sentences(entry: Entry, passages: Sequence[str], processor: TextProcessor) -> tuple[ReasonSentence, ...]:
    """The sentences of ``entry`` that may be shown as the reason it matched, in the entry's order.

    They are the sentences of the summary and then of the description, each once. A sentence that opens with
    the entry's name ("Almi Invest is …") would repeat the name shown just before it, and a fragment of fewer
    than four words does not say anything alone; both are left out unless nothing else is left.

    Args:
        entry: the catalogue record.
        passages: the entry's indexed passages, to find which one holds each sentence.
        processor: splits the text into sentences and words.

    Returns:
        At least one sentence for any valid entry (its summary is required).
    """
    texts: list[str] = []
    for text in processor.readable_sentences(entry.summary) + processor.readable_sentences(entry.description):
        if text not in texts:
            texts.append(text)
    name = entry.name.casefold()
    readable = [t for t in texts if not t.casefold().startswith(name) and len(t.split()) >= MIN_REASON_WORDS]
    chosen = readable or texts
    return tuple(
        ReasonSentence(text, frozenset(processor.lemmas(text)), _holding_passage(text, passages), position)
        for position, text in enumerate(chosen)
    )


def swedish_reason_sentences(entry: Entry, processor: TextProcessor) -> tuple[ReasonSentence, ...]:
    """The sentences of ``entry``'s Swedish summary that may be shown as the reason it matched, in order; empty
    when it has none. No passage stands for them (MiniLM does not embed Swedish), so the words decide."""
    texts = [t for t in processor.readable_sentences(entry.summary_sv) if t] if entry.summary_sv else []
    if entry.summary_sv and not texts:
        texts = [entry.summary_sv.strip()]
    return tuple(ReasonSentence(text, frozenset(processor.lemmas(text)), None, position)
                 for position, text in enumerate(texts))


def _holding_passage(sentence: str, passages: Sequence[str]) -> int | None:
    """The first passage that holds ``sentence``, else the first that holds its opening words (a sentence mended
    from two pieces may straddle two passages)."""
    opening = " ".join(sentence.split()[:MIN_REASON_WORDS * 2])
    for needle in (sentence, opening):
        for position, passage in enumerate(passages):
            if needle in passage:
                return position
    return None


def term_weights(lemmas: Iterable[str], document_frequency: Mapping[str, int], documents: int) -> dict[str, float]:
    """Each distinct query lemma with its inverse document frequency over ``documents`` entries.

    A word that few entries use says more about why one of them matched than a word every entry uses
    ("company", "research"). A lemma no entry uses gets the highest weight, as if one entry used it.
    """
    weights = {}
    for lemma in lemmas:
        if lemma not in weights:
            frequency = max(document_frequency.get(lemma, 0), 1)
            weights[lemma] = math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
    return weights


def best_sentence(sentences: Sequence[ReasonSentence], weights: Mapping[str, float],
                  passage_similarities: Sequence[float] | None) -> ReasonSentence:
    """The sentence that bears most on the need.

    A sentence scores the share of the query's weight (see :func:`term_weights`) carried by the query words it
    uses, in [0, 1], plus the cosine similarity of the query and the passage that holds it (0 without dense
    scores, or when no passage holds it). The words decide when the sentence shares them; when no sentence
    shares a word (a need put in other words, or in Swedish), the meaning of its passage decides. Equal scores
    go to the earlier sentence, so the summary wins a tie.

    Raises:
        ValueError: ``sentences`` is empty.
    """
    if not sentences:
        raise ValueError("an entry needs at least one sentence to explain a match")
    total = sum(weights.values())

    def score(sentence: ReasonSentence) -> tuple[float, int]:
        lexical = sum(w for lemma, w in weights.items() if lemma in sentence.lemmas) / total if total else 0.0
        dense = 0.0
        if passage_similarities is not None and sentence.passage is not None:
            dense = float(passage_similarities[sentence.passage])
        return round(lexical + dense, 9), -sentence.position  # rounding: equal sums must tie exactly

    return max(sentences, key=score)


def trim(sentence: str, limit: int = MAX_REASON_CHARS) -> str:
    """``sentence`` when at most ``limit`` characters, else cut to fit and ended with "…".

    The cut falls at the last clause boundary (comma, semicolon, colon or dash) that keeps at least half the
    limit, else at the last whole word.
    """
    if len(sentence) <= limit:
        return sentence
    head = sentence[: limit - 1]
    clause_ends = [m.start() for m in _CLAUSE_END.finditer(head + " ") if m.start() >= limit // 2]
    cut = head[: clause_ends[-1]] if clause_ends else head.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—(") + "…"
