"""Text processing with spaCy: cleaning queries, splitting passages, lemmatising terms.

The pipeline is spaCy's blank English pipeline with the rule-based sentencizer and
the lookup lemmatizer whose tables come from the PyPI package
``spacy-lookups-data``. Nothing is downloaded at run time; no trained spaCy
model is needed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from index.errors import QueryError

# Swedish function words, so that a query in Swedish does not match on "och" or "för".
_SWEDISH_STOP_WORDS = frozenset(
    "och att det som en ett är på för med till av den de har inte om var jag vi ni du han hon kan ska vill "
    "från eller men så här där när hur vad vilken vilka vårt vår våra er ert era mitt min mina sig sin sina "
    "också bara efter under över mellan sedan än nu alla något några någon hos utan behöver behov söker "
    "hitta finns får få göra gör görs".split()
)
# Words that say a need exists rather than what it is; in a catalogue they only add noise.
_REQUEST_WORDS = frozenset("need needs needed want wants looking like would could please hi hello thanks".split())
_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Term:
    """A searchable word: its lemma (what is matched) and the form it had in the text (what is shown)."""

    lemma: str
    surface: str


def clean_text(text: str) -> str:
    """Normalise user text once, at the boundary.

    Unicode is put in NFC form (so Swedish letters typed either way compare equal),
    HTML tags are removed and entities decoded, control characters become spaces
    and runs of white space collapse to one.
    """
    text = unicodedata.normalize("NFC", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in text)
    return _SPACE.sub(" ", text).strip()


def clean_query(text: str, max_chars: int) -> str:
    """Clean a search query and check that something searchable is left.

    Returns:
        The cleaned query.

    Raises:
        QueryError: if the query is not text, is empty after cleaning, or is longer than ``max_chars``.
    """
    if not isinstance(text, str):
        raise QueryError(f"the query must be text, not {type(text).__name__}")
    if len(text) > max_chars * 4:
        # Refuse before spending time cleaning a huge input.
        raise QueryError(f"the query is {len(text)} characters long; the limit is {max_chars}")
    cleaned = clean_text(text)
    if not cleaned:
        raise QueryError("the query is empty; describe what you need in a few words")
    if len(cleaned) > max_chars:
        raise QueryError(f"the query is {len(cleaned)} characters long; the limit is {max_chars}")
    if not any(ch.isalnum() for ch in cleaned):
        raise QueryError("the query has no letters or digits to search for")
    return cleaned


class TextProcessor:
    """spaCy-based passage splitting and lemmatisation. Build one and share it: creating it loads tables."""

    def __init__(self) -> None:
        import spacy
        from spacy.lang.en.stop_words import STOP_WORDS

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        self._nlp = nlp
        self._stop_words = frozenset(STOP_WORDS) | _SWEDISH_STOP_WORDS | _REQUEST_WORDS
        self._lemmas: dict[str, str] = {}

    def terms(self, text: str) -> list[Term]:
        """The searchable words of ``text`` in order: lower-cased lemmas without stop words or punctuation."""
        doc = self._nlp.make_doc(text)
        result = []
        for token in doc:
            surface = token.text
            lower = surface.lower()
            if len(lower) < 2 and not lower.isdigit():
                continue
            if lower in self._stop_words or not any(ch.isalnum() for ch in lower):
                continue
            result.append(Term(self._lemma(lower), surface))
        return result

    def lemmas(self, text: str) -> list[str]:
        """Just the lemmas of :meth:`terms`, for the keyword index."""
        return [t.lemma for t in self.terms(text)]

    def _lemma(self, word: str) -> str:
        lemma = self._lemmas.get(word)
        if lemma is None:
            lemma = self._nlp.get_pipe("lemmatizer").lookup_lemmatize(self._nlp.make_doc(word)[0])[0].lower()
            if len(self._lemmas) < 200_000:
                self._lemmas[word] = lemma
        return lemma

    def sentences(self, text: str) -> list[str]:
        """``text`` split into sentences by spaCy's sentencizer."""
        doc = self._nlp.get_pipe("sentencizer")(self._nlp.make_doc(text))
        return [s.text.strip() for s in doc.sents if s.text.strip()]

    def readable_sentences(self, text: str) -> list[str]:
        """``text`` split into sentences that read on their own.

        The sentencizer also ends a sentence at a question mark inside quotes ('A company asking "where can we
        test this?" would start here.'), leaving a fragment that starts with a lower-case word. Such a
        fragment is joined back to the sentence before it. A word that merely starts in lower case but is
        not all lower case (a name such as "uMOVE") still starts a sentence.
        """
        joined: list[str] = []
        for sentence in self.sentences(text):
            first = sentence.split(maxsplit=1)[0].strip("\"'“”(")
            if joined and first.isalpha() and first.islower():
                joined[-1] = f"{joined[-1]} {sentence}"
            else:
                joined.append(sentence)
        return joined

    def passages(self, text: str, max_words: int = 70) -> list[str]:
        """Split ``text`` into passages of whole sentences of at most about ``max_words`` words.

        A sentence longer than ``max_words`` becomes a passage of its own; passages
        are never empty. The embedding model reads about 256 word pieces, so
        shorter passages keep every word in view.
        """
        passages: list[str] = []
        current: list[str] = []
        count = 0
        for sentence in self.sentences(text):
            words = len(sentence.split())
            if current and count + words > max_words:
                passages.append(" ".join(current))
                current, count = [], 0
            current.append(sentence)
            count += words
        if current:
            passages.append(" ".join(current))
        return passages


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut.

    Args:
        text: any text; white space is collapsed first.
        limit: the longest result, at least 2.

    Returns:
        The text itself when short enough.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
