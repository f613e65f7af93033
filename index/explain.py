"""Why an entry matched: the best passage, shortened, and the words it shares with the query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.text import Term

MAX_PASSAGE_CHARS = 220
MAX_TERMS = 6


@dataclass(frozen=True)
class Explanation:
    """Short enough for a chat message.

    Attributes:
        passage: the part of the entry that matched best, at most about 220 characters.
        terms: the query's own words (as typed) that the entry also uses, in query order.
    """

    passage: str
    terms: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"passage": self.passage, "terms": list(self.terms)}


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


def shorten(passage: str, sentences: Sequence[str], query_lemmas: set[str], lemmas_of, limit: int = MAX_PASSAGE_CHARS) -> str:
    """Cut ``passage`` to about ``limit`` characters around its most relevant sentence.

    Args:
        passage: the full passage.
        sentences: the passage split into sentences.
        query_lemmas: the query's lemmas; the sentence sharing most of them is kept.
        lemmas_of: a function from text to its lemmas.
        limit: the length to aim for.

    Returns:
        The passage itself when short enough, else the best sentence, cut at a word
        boundary with an ellipsis when it alone is too long.
    """
    if len(passage) <= limit:
        return passage
    best = max(
        enumerate(sentences),
        key=lambda pair: (len(query_lemmas & set(lemmas_of(pair[1]))), -pair[0]),
        default=(0, passage),
    )[1]
    if len(best) <= limit:
        return best
    cut = best[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"
