"""Telling apart the needs in one message: "mouse studies, and later GMP production" holds two.

:func:`split_needs` cuts a message at the phrases companies use to go on to another need (";", "and later",
"and also", "as well as", "plus", ", then", ". We also need", Swedish "och sedan", "samt", "och även" …). A
bare "and" or "och" never cuts: "flow cytometry and cell sorting" is one need. The cut is only a proposal:
:meth:`index.engine.SearchEngine.search_parts` keeps a part only when it is a need of its own, with words to
search and a best match different from its neighbour's.

Deterministic, rule-based, English and Swedish; nothing here is learned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PARTS = 3

# Words that, right after a boundary, say the next need follows; they are dropped from the part.
_EN_NEXT = (r"(?:then|later(?:\s+on)?|afterwards|after\s+that|also|in\s+addition|additionally|separately|finally|"
            r"next|besides|furthermore|moreover|on\s+top\s+of\s+that|before\s+that|secondly)")
_SV_NEXT = r"(?:sedan|sen|senare|därefter|efter\s+det|även|också|dessutom|slutligen|till\s+sist)"
_EN_WE = r"(?:we|i|they|our\s+\w+)(?:'ll|'d|'re|\s+will|\s+would|\s+shall|\s+are)?"
_SV_WE = r"(?:vi|jag)(?:\s+\w+)?"

_BOUNDARIES = [
    # A bare semicolon joins two clauses of one thought ("…is floppy; the X-ray approach failed"): it cuts
    # only before words that go on to another need.
    rf"\s*;\s*(?:and\s+)?{_EN_NEXT}\b,?\s*",                        # "…; separately a loan"
    rf"\s*;\s*(?={_EN_WE}\s+(?:also|then|later|additionally|next)\b)",  # "…; we also need"
    rf"\s*;\s*(?:och\s+)?{_SV_NEXT}\b,?\s*",                          # "…; dessutom ett lån"
    rf",?\s+and\s+{_EN_NEXT}\b,?\s*",                                # ", and later", " and also"
    r",?\s+(?:and\s+)?as\s+well\s+as\s+",                            # ", as well as"
    r",?\s+plus\s+",                                                 # ", plus"
    rf"[,.]\s+{_EN_NEXT}\b,?\s*",                                    # ", then", ". Also,"
    rf"(?:,?\s+and|\.)\s+(?={_EN_WE}\s+(?:also|then|later|additionally|next)\b)",  # ". We also need"
    rf",?\s+och\s+{_SV_NEXT}\b,?\s*",                                # "och sedan", "och även"
    rf",?\s+samt\s+(?:även\s+|också\s+)?",                           # "samt"
    rf"[,.]\s+{_SV_NEXT}\b,?\s*",                                    # ", därefter", ". Dessutom"
    rf"(?:,?\s+och|\.)\s+(?={_SV_WE}\s+(?:även|också|sedan|senare|dessutom)\b)",  # "och vi behöver också"
]
_BOUNDARY = re.compile("|".join(f"(?:{b})" for b in _BOUNDARIES), re.IGNORECASE)
# A part that opens with a preposition continues the clause before it ("test it in the lab and then on real
# patients"): it names no need of its own.
_CONTINUATION = re.compile(r"(?:in|on|at|with|by|from|into|onto|under|within|på|i|med|hos|vid|från|inom|under)\s",
                           re.IGNORECASE)
_EDGE = re.compile(r"^[\s,;:.–—-]+|[\s,;:–—-]+$")
_LEADING_CONJUNCTION = re.compile(r"^(?:and|but|so|och|men|så)\s+", re.IGNORECASE)
# "We'll need", "our startup needs", "vi behöver även": saying that a need exists, not what it is.
_REQUEST = re.compile(
    r"^(?:(?:we|i|our\s+\w+|the\s+company)(?:'ll|'d|'re|\s+will|\s+would|\s+are|\s+also|\s+then|\s+later|\s+now|"
    r"\s+first)*\s+)?(?:also\s+|then\s+|later\s+)?"
    r"(?:needs?|want(?:s)?|would\s+like|like|requires?|(?:are\s+)?looking\s+for|look\s+for|search(?:ing)?\s+for|"
    r"seek(?:ing)?)(?:\s+to)?\s+"
    r"|^(?:vi|jag)\s+(?:ska\s+|skulle\s+|vill\s+|behöver\s+|söker\s+|letar\s+efter\s+|önskar\s+)+"
    r"(?:även\s+|också\s+|sedan\s+|senare\s+|dessutom\s+)?(?:att\s+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NeedPart:
    """One need in a company's message.

    Attributes:
        text: the words of the message that state this need, without the joining words ("and later"); what
            is searched.
        topic: ``text`` without the opening request words ("we'll need", "vi behöver"), for a heading such as
            'For "GMP production": …'. Never empty: it is ``text`` when nothing else would be left.
    """

    text: str
    topic: str

    @classmethod
    def of(cls, text: str) -> NeedPart:
        text = _tidy(text)
        return cls(text, topic_of(text))


def topic_of(text: str) -> str:
    """``text`` without its opening request words: "we'll need GMP production" gives "GMP production"."""
    topic = _tidy(_REQUEST.sub("", _tidy(text), count=1)).rstrip(".!?")
    return topic or _tidy(text)


def split_needs(text: str, max_parts: int = MAX_PARTS) -> list[NeedPart]:
    """Propose the needs in ``text``, in the order written.

    Args:
        text: a cleaned message (see :func:`index.text.clean_query`).
        max_parts: the most parts to return; the text after the last allowed cut stays in the last part.

    Returns:
        One part (the whole text) when no boundary phrase occurs, else up to ``max_parts`` parts. A part may
        still be no need of its own ("and then as soon as possible"); the engine checks that.

    Raises:
        ValueError: ``max_parts`` is below 1.
    """
    if max_parts < 1:
        raise ValueError(f"max_parts must be at least 1, got {max_parts}")
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if len(pieces) == max_parts - 1:
            break
        piece = text[start:match.start()]
        if _tidy(piece) and not _CONTINUATION.match(text, match.end()):
            pieces.append(piece)
            start = match.end()
    pieces.append(text[start:])
    parts = [NeedPart.of(p) for p in pieces if _tidy(p)]
    return parts or [NeedPart.of(text)]


def _tidy(text: str) -> str:
    text = _EDGE.sub("", text.strip())
    return _EDGE.sub("", _LEADING_CONJUNCTION.sub("", text))
