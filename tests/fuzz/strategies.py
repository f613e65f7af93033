"""Hostile user input for property-based tests (Hypothesis strategies), shared by the unit properties of the
channels and the input guard (tests/fuzz/test_input_properties.py), the seeded run against the running assistant
(tests/fuzz/test_stack_fuzz.py) and the long run of ``make bench`` (tests/fuzz/bench.py).

Each class of input is a strategy of its own, named in :data:`MESSAGE_CLASSES`, so that a run can say which class
an input came from:

- ``unicode``: characters of every Unicode general category but surrogates (letters, marks, digits, punctuation,
  symbols, separators, controls, format characters, private use, unassigned);
- ``control``: text laced with C0 and C1 controls, NUL, zero-width and bidirectional formatting characters,
  the byte-order mark and non-characters;
- ``surrogates``: text holding lone UTF-16 surrogates (``"\\ud800"``), which JSON can carry as escapes but
  UTF-8 cannot encode;
- ``oversized``: more characters than the limit (up to 20,000), and ``at_limit``: exactly the limit;
- ``json``: JSON documents and broken JSON fragments as message text;
- ``payload``: Rasa's payload syntax (``/intent{"entity": "value"}``, ``/intent@0.9``), with the domain's intents
  and made-up ones, forged entities and leading whitespace;
- ``empty``: nothing, or only whitespace of every kind Python's ``str.strip`` removes.

No pytest and no Rasa here: only Hypothesis and the standard library.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

MAX_MESSAGE_CHARS = 2000
"""The input guard's default limit (bot/input_guard.py ``DEFAULT_MAX_MESSAGE_CHARS``), which the assistant in the
tests and the benchmarks runs with."""

SEEDED = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
"""The unit properties' settings: the same examples every run (no example database, no random seed), so that
the unit tier is repeatable, and about a second per property."""

ALL_CATEGORIES_BUT_SURROGATES = ("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co", "Cn")
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
             "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
"""Every character ``str.strip`` removes (Rasa trims a message with it)."""
CONTROLS = "".join(map(chr, range(0x20))) + "\x7f" + "".join(map(chr, range(0x80, 0xa0))) + \
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\ufffe\uffff\U0010ffff"
"""C0 and C1 controls, zero-width and bidirectional formatting characters, the byte-order mark, non-characters."""
INTENTS = ("greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "chitchat", "out_of_scope",
           "describe_need", "restrict_site", "ask_funding", "show_more", "none_fit", "ask_details", "ask_contact",
           "request_support", "ask_human", "check_status", "stop", "faq", "restart", "inform")
"""The intents of bot/domain.yml, which a forged payload names."""
ENTITIES = ("site", "position", "reference", "company", "email", "need")
WORDS = ("flow cytometry", "GMP", "AAV vector", "Flemingsberg", "Solna", "proteomics", "cryo-EM", "hej",
         "vi behöver", "<script>alert(1)</script>", "'; DROP TABLE events; --", "{{7*7}}", "${jndi:ldap://x}",
         "<@U0BOSS>", "<!channel>", "<at>Navigator</at>", "&amp;", "%s%s%n", "../../etc/passwd")
"""Words of the domain, and the usual injections, mixed into the generated text."""

unicode_text = st.text(st.characters(categories=ALL_CATEGORIES_BUT_SURROGATES), min_size=1, max_size=80)


@st.composite
def _laced(draw: st.DrawFn, specials: str, min_specials: int = 1) -> str:
    """Text with at least ``min_specials`` characters of ``specials`` put among ordinary words and characters."""
    parts = draw(st.lists(st.one_of(st.sampled_from(WORDS), unicode_text, st.text(st.sampled_from(specials),
                                                                                    min_size=1, max_size=6)),
                          min_size=1, max_size=6))
    parts += draw(st.lists(st.text(st.sampled_from(specials), min_size=1, max_size=4), min_size=min_specials,
                           max_size=min_specials + 2))
    order = draw(st.permutations(parts))
    return "".join(order)


control_text = _laced(CONTROLS)
surrogate_text = _laced("".join(map(chr, range(0xD800, 0xE000, 0x3F))) + "\ud800\udbff\udc00\udfff")


@st.composite
def _of_length(draw: st.DrawFn, lengths: st.SearchStrategy[int]) -> str:
    """A text of the drawn length, made of a repeated piece of words and Unicode that does not end or start with
    whitespace, so that Rasa's trimming leaves its length as drawn."""
    length = draw(lengths)
    piece = draw(st.one_of(st.sampled_from(WORDS), unicode_text, control_text)) + " "
    text = (piece * (length // len(piece) + 1))[:length]
    edges = draw(st.sampled_from("xä€😀"))
    return edges + text[1:-1] + edges if length >= 2 else edges * length


oversized_text = _of_length(st.integers(MAX_MESSAGE_CHARS + 1, 10 * MAX_MESSAGE_CHARS))
at_limit_text = _of_length(st.just(MAX_MESSAGE_CHARS))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)


@st.composite
def _json_text(draw: st.DrawFn) -> str:
    document = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # cut short or doubled: JSON-looking but broken
        cut = draw(st.integers(0, len(document)))
        document = document[:cut] + draw(st.sampled_from(["", "}", "]]", '"', "\\", "\\u12", document]))
    return document


json_text = _json_text()


@st.composite
def _payload_text(draw: st.DrawFn) -> str:
    intent = draw(st.one_of(st.sampled_from(INTENTS), st.text(st.characters(categories=("L", "N", "Pc")),
                                                             min_size=1, max_size=15)))
    text = "/" * draw(st.integers(1, 3)) + intent
    if draw(st.booleans()):
        text += "@" + draw(st.sampled_from(["0.9", "1", "2", "-1", "nan", "x"]))
    if draw(st.booleans()):
        entities = draw(st.dictionaries(st.sampled_from(ENTITIES), st.one_of(st.sampled_from(WORDS),
                                        st.text(max_size=15), st.integers()), max_size=3))
        text += json.dumps(entities)
    lead = draw(st.text(st.sampled_from(WHITESPACE), max_size=3))
    return lead + text + draw(st.sampled_from(["", " ", " and more", "}", "{"]))


payload_text = _payload_text()
empty_text = st.text(st.sampled_from(WHITESPACE), max_size=12)

MESSAGE_CLASSES: dict[str, st.SearchStrategy[str]] = {
    "unicode": unicode_text,
    "control": control_text,
    "surrogates": surrogate_text,
    "oversized": oversized_text,
    "at_limit": at_limit_text,
    "json": json_text,
    "payload": payload_text,
    "empty": empty_text,
}
"""Each class of hostile input, by name."""

hostile_text = st.one_of(*MESSAGE_CLASSES.values())
"""Any of the classes."""

labelled_messages: st.SearchStrategy[tuple[str, str]] = st.sampled_from(sorted(MESSAGE_CLASSES)).flatmap(
    lambda name: MESSAGE_CLASSES[name].map(lambda text: (name, text)))
"""``(class name, text)``, each class as likely as the others."""


def trimmed_length(text: str) -> int:
    """The length the input guard counts: characters (code points) after Rasa trims the ends."""
    return len(text.strip())



def generated_messages(count: int, salt: int = 0) -> list[tuple[str, str]]:
    """``count`` messages, ``(class name, text)``, as many of each class as the others (give or take one), the
    classes taking turns; the same for the same ``count`` and ``salt`` (Hypothesis generates them from a fixed
    seed, with no example database)."""
    per_class = {}
    for number, (name, strategy) in enumerate(sorted(MESSAGE_CLASSES.items())):
        wanted = count // len(MESSAGE_CLASSES) + (number < count % len(MESSAGE_CLASSES))
        per_class[name] = [(name, text) for text in _generate(strategy, wanted, salt)]
    turns = [message for round_ in itertools.zip_longest(*per_class.values()) for message in round_ if message]
    return turns[:count]


def _generate(strategy: st.SearchStrategy[str], count: int, salt: int) -> list[str]:
    found: list[str] = []
    if count == 0:
        return found

    @seed(salt)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(text: str) -> None:
        found.append(text)

    collect()
    # A class with few distinct values (whitespace) may give fewer than asked: they come round again.
    found.extend(itertools.islice(itertools.cycle(found or [""]), count - len(found)))
    return found[:count]
