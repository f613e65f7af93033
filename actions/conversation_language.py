"""Which language a conversation is held in: English or Swedish, decided again at every message.

The order (docs/languages.md):

1. what the user asks for ("in English please", "på svenska");
2. else what the user writes, when a language-identification model is sure of it (a single word does not change
   a language the conversation already has);
3. else the language the conversation already has;
4. else what the channel or page says (the widget's ``data-lang`` or the page's ``lang``, Teams' locale).

No Rasa import here: the action in :mod:`actions.language` reads the tracker and calls :func:`decide_language`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Protocol

ENGLISH = "en"
SWEDISH = "sv"
LANGUAGES = (ENGLISH, SWEDISH)

# A request to change language is a short message: "we need Swedish translations of our manuals" is a need.
MAX_REQUEST_WORDS = 7
_SWEDISH_REQUEST = re.compile(
    r"\b(?:på|in|speak|talk|write|use|prefer)\s+(?:svenska|swedish)\b|^\s*(?:svenska|swedish)\b|\bsvenska\s+tack\b"
    r"|\bswedish\s+please\b|\bkan\s+du\s+svenska\b|\bspeak\s+swedish\b",
    re.IGNORECASE,
)
_ENGLISH_REQUEST = re.compile(
    r"\b(?:på|in|speak|talk|write|use|prefer)\s+(?:engelska|english)\b|^\s*(?:engelska|english)\b"
    r"|\bengelska\s+tack\b|\benglish\s+please\b|\bkan\s+du\s+engelska\b",
    re.IGNORECASE,
)
_NAMES_SWEDISH = re.compile(r"\b(?:svenska|swedish)\b", re.IGNORECASE)
_NAMES_ENGLISH = re.compile(r"\b(?:engelska|english)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")

MIN_SWITCH_WORDS = 2

# Answers to these questions are names, addresses and numbers: they tell nothing of the company's language.
UNTELLING_SLOTS = frozenset({"company_name", "contact_person", "email", "phone", "org_number", "reference",
                             "status_email"})


class LanguageDetector(Protocol):
    """Tells which of :data:`LANGUAGES` a text is written in."""

    def detect(self, text: str) -> str | None:
        """The language of ``text`` (``"en"`` or ``"sv"``), or ``None`` when it cannot be told with confidence."""


class LinguaDetector:
    """:class:`LanguageDetector` on lingua (``lingua-language-detector``), restricted to English and Swedish.

    Its models ship in the package; they are loaded when the detector is built, so build it once at start-up.
    ``minimum_distance`` is lingua's minimum relative distance between the two languages' likelihoods: below it the
    text is undecided (``None``). 0.25 was chosen on 250 messages of one to three words (docs/languages.md).
    """

    def __init__(self, minimum_distance: float = 0.25):
        from lingua import Language, LanguageDetectorBuilder

        self._codes = {Language.ENGLISH: ENGLISH, Language.SWEDISH: SWEDISH}
        self._detector = (LanguageDetectorBuilder.from_languages(*self._codes)
                          .with_minimum_relative_distance(minimum_distance)
                          .with_preloaded_language_models()
                          .build())

    def detect(self, text: str) -> str | None:
        if not _WORD.search(text):
            return None
        found = self._detector.detect_language_of(text)
        return None if found is None else self._codes[found]


@functools.cache
def shared_detector() -> LinguaDetector:
    """The process's one :class:`LinguaDetector`, built at the first call (it takes a few seconds and about
    100 MB)."""
    return LinguaDetector()


def requested_language(text: str) -> str | None:
    """The language the user asks for in ``text`` ("in English please", "kan vi ta det på svenska?"), else
    ``None``. Only short messages count, so that a need that mentions a language is not read as a request."""
    if len(_WORD.findall(text)) > MAX_REQUEST_WORDS:
        return None
    if _NAMES_SWEDISH.search(text) and _NAMES_ENGLISH.search(text):
        return None  # "English or Swedish?", "from English to Swedish": not a choice
    swedish = bool(_SWEDISH_REQUEST.search(text))
    english = bool(_ENGLISH_REQUEST.search(text))
    if swedish == english:
        return None
    return SWEDISH if swedish else ENGLISH


def channel_language(value: object) -> str | None:
    """A channel's or page's language tag (``"sv"``, ``"sv-SE"``, ``"en_GB"``) as one of :data:`LANGUAGES`, else
    ``None``."""
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else None


def decide_language(text: str, *, current: str | None, channel: object, detector: LanguageDetector,
                    requested_slot: str | None = None) -> str | None:
    """The conversation's language after the user's message ``text``.

    Args:
        text: the user's message. A button payload (``/intent...``) says nothing of the language.
        current: the conversation's language so far, or ``None``.
        channel: the language the channel or page gives, as a tag (see :func:`channel_language`), or ``None``.
        detector: tells the language of a text.
        requested_slot: the form question being answered, if any; answers to :data:`UNTELLING_SLOTS` are not
            read for their language.

    Returns:
        ``"en"``, ``"sv"``, or ``None`` while nothing says (the assistant then speaks English).
    """
    asked = requested_language(text)
    if asked:
        return asked
    # One word ("ok", "tack", "perfekt") may start a conversation's language but does not change one: short
    # words are shared between the languages and are where the detector errs most.
    settled = current in LANGUAGES and len(_WORD.findall(text)) < MIN_SWITCH_WORDS
    if not text.lstrip().startswith("/") and requested_slot not in UNTELLING_SLOTS and not settled:
        detected = detector.detect(text)
        if detected in LANGUAGES:
            return detected
    if current in LANGUAGES:
        return current
    return channel_language(channel)


def measure(detector: LanguageDetector, labelled: dict[str, Iterable[str]]) -> dict[str, tuple[int, int, int]]:
    """How ``detector`` does on labelled messages: per language, (right, wrong, undecided)."""
    results = {}
    for language, messages in labelled.items():
        found = [detector.detect(message) for message in messages]
        right = sum(1 for f in found if f == language)
        undecided = sum(1 for f in found if f is None)
        results[language] = (right, len(found) - right - undecided, undecided)
    return results
