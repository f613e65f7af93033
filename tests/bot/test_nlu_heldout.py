"""The NLU held-out sets (bot/tests/nlu_test.yml, and the Swedish bot/tests/nlu_test_sv.yml) hold no trivial variants
of the training examples (every NLU file in bot/data).

The pipeline featurises character n-grams (1 to 4), so a held-out message two typos away from a training
example, the same words shuffled, or one word added, dropped or swapped, is as good as seen, and counting it
flatters a gate. ``make test-bot``'s 0.90 gates read these sets; the earlier set, which had such variants, is
retired (docs/benchmarks.md has both sets' figures).

How two examples are compared:

- Entity annotations are reduced to their text: ``[Solna](site)`` and ``[Solna]{"entity": "site"}`` are
  ``Solna``.
- The text is normalised: Unicode NFC, case-folded, apostrophes dropped (``what's`` is ``whats``), every other
  run of characters that are neither letters nor digits (punctuation, white space) one space, trimmed.
- A held-out example is compared with the training examples of its own intent as the intent classifier sees
  it: the retrieval intents ``faq/cost``, ``faq/sites``... are the one intent ``faq`` to DIET, so they are
  compared with each other. Closeness to another intent is not checked: "hej där" (greet) against "hej då"
  (goodbye), or "restart please" against "yes please" (affirm), are the hard cases a held-out set should keep.
- It is rejected when, against one such training example:
  1. the normalised texts are within :data:`MAX_CHAR_EDITS` character edits (Levenshtein: insertions,
     deletions, substitutions; a swap of two letters is two edits);
  2. they have the same words in another order;
  3. the word sequences differ by exactly one word inserted, deleted or substituted, and share at least one
     word (two different one-word messages are different messages, not variants).
- Whatever the intent, a held-out example whose normalised text equals a training example's is rejected too.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

BOT = Path(__file__).resolve().parents[2] / "bot"
TRAINING = sorted((BOT / "data").glob("nlu*.yml"))
"""The NLU training files: Rasa trains one model on all of them (English and Swedish)."""
HELD_OUT = {"en": BOT / "tests" / "nlu_test.yml", "sv": BOT / "tests" / "nlu_test_sv.yml"}
"""The held-out set of each language, each gated on its own by ``make test-bot``."""
MIN_HELD_OUT = {"en": 250, "sv": 250}
"""The fewest examples a held-out set may have."""

MAX_CHAR_EDITS = 2
"""Held-out texts within this many character edits of a training text of their intent are rejected."""

_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_APOSTROPHES = re.compile(r"['’‘`´]")
_SEPARATORS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Example:
    """One NLU example: its intent, its text as written, and the normalised words compared."""

    intent: str
    text: str
    words: tuple[str, ...]

    @property
    def normalised(self) -> str:
        return " ".join(self.words)

    @property
    def classifier_intent(self) -> str:
        """The intent DIET predicts: ``faq/cost`` is ``faq`` (the response selector tells the sub-intents apart)."""
        return self.intent.partition("/")[0]


def normalise(text: str) -> tuple[str, ...]:
    """The words of an example as compared here (see the module's docstring)."""
    text = _ANNOTATION.sub(r"\1", text)
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFC", text).casefold())
    return tuple(_SEPARATORS.sub(" ", text).split())


def load_examples(path: Path) -> list[Example]:
    """The intent examples of a Rasa 3 NLU file, in file order (synonyms, regexes and lookups are skipped)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in document.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("- "):
                raise ValueError(f"{path}: intent {block['intent']}: an example line must start with '- ': {line!r}")
            examples.append(Example(block["intent"], line[2:].strip(), normalise(line[2:])))
    return examples


def within_edits(a: Sequence, b: Sequence, limit: int) -> bool:
    """Whether the Levenshtein distance between ``a`` and ``b`` (strings or word tuples) is at most ``limit``.

    Only the diagonal band of width ``2 * limit + 1`` is computed, and the loop stops as soon as every value
    in the band exceeds ``limit``: cheap for the small limits used here.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    too_far = limit + 1
    previous = [min(j, too_far) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [min(i, too_far)] + [too_far] * len(b)
        low, high = max(1, i - limit), min(len(b), i + limit)
        for j in range(low, high + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]), too_far)
        if min(current[max(0, low - 1):high + 1]) > limit:
            return False
        previous = current
    return previous[len(b)] <= limit


def variant_rule(held_out: Example, trained: Example) -> str | None:
    """Which rule makes ``held_out`` a trivial variant of ``trained`` (their intents are not looked at), or
    ``None``."""
    if within_edits(held_out.normalised, trained.normalised, MAX_CHAR_EDITS):
        return f"within {MAX_CHAR_EDITS} character edits"
    if held_out.words != trained.words and Counter(held_out.words) == Counter(trained.words):
        return "the same words in another order"
    if set(held_out.words) & set(trained.words) and within_edits(held_out.words, trained.words, 1):
        return "one word inserted, deleted or substituted"
    return None


def trivial_variants(held_out: list[Example], training: list[Example]) -> list[tuple[Example, Example, str]]:
    """Each held-out example that is a trivial variant of a training example, with the first such training
    example and the rule (see the module's docstring)."""
    by_intent: dict[str, list[Example]] = {}
    for example in training:
        by_intent.setdefault(example.classifier_intent, []).append(example)
    exact = {example.normalised: example for example in training}
    found = []
    for example in held_out:
        if example.normalised in exact:
            found.append((example, exact[example.normalised], "the same text"))
            continue
        for trained in by_intent.get(example.classifier_intent, []):
            rule = variant_rule(example, trained)
            if rule:
                found.append((example, trained, rule))
                break
    return found


# -- the comparison itself ------------------------------------------------------------------------------------


def reference_distance(a: Sequence, b: Sequence) -> int:
    """Textbook Levenshtein distance, the full table."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return table[len(a)][len(b)]


def test_the_banded_distance_agrees_with_the_full_table() -> None:
    generator = random.Random(17)
    for _ in range(3000):
        a = "".join(generator.choices("abc", k=generator.randint(0, 9)))
        b = "".join(generator.choices("abc", k=generator.randint(0, 9)))
        for limit in (0, 1, 2, 3):
            assert within_edits(a, b, limit) == (reference_distance(a, b) <= limit), (a, b, limit)


def test_annotations_case_punctuation_and_apostrophes_are_normalised() -> None:
    assert normalise("Only [Campus Flemingsberg](site), please!") == ("only", "campus", "flemingsberg", "please")
    assert normalise('tell me about the [third]{"entity": "position", "value": "3"} one') == (
        "tell", "me", "about", "the", "third", "one")
    assert normalise("What's  the status of SLT-2026-0088?") == ("whats", "the", "status", "of", "slt", "2026", "0088")
    assert normalise("Hallå, NÅGON där?") == ("hallå", "någon", "där")


def example(text: str, intent: str = "greet") -> Example:
    return Example(intent, text, normalise(text))


@pytest.mark.parametrize(("held_out", "trained", "rule"), [
    ("wich sites are covered", "which sites are covered?", "character edits"),
    ("show mroe", "show more", "character edits"),
    ("[Flemingsbrg](site) only please", "[Flemingsberg](site) only please", "character edits"),
    ("tack, toppen", "toppen, tack", "another order"),
    ("is anyone real on the other end", "is anyone real on the other end?", "character edits"),
    ("more options please", "more results please", "one word"),
    ("a list of sequencing companies please", "a list of sequencing companies", "one word"),
    ("who made you", "so who made you", "one word"),
])
def test_trivial_variants_are_caught(held_out: str, trained: str, rule: str) -> None:
    found = variant_rule(example(held_out), example(trained))
    assert found is not None and rule in found


@pytest.mark.parametrize(("held_out", "trained"), [
    ("cya", "bye there"),          # one word each side differs: two words apart
    ("stop", "cancel"),            # two different one-word messages
    ("you're hilarious today", "you're funny"),
    ("show me some other ones", "show more"),
])
def test_different_messages_are_kept(held_out: str, trained: str) -> None:
    assert variant_rule(example(held_out), example(trained)) is None


def test_only_the_same_intent_is_compared_except_for_identical_text() -> None:
    training = [example("hej då", "goodbye"), example("what is the SLT programme", "faq/what_is_slt"),
                example("thanks", "thank")]
    held_out = [example("hej där", "greet"), example("what is the SLT program", "faq/cost"),
                example("Thanks!", "goodbye")]
    found = {(h.text, t.text, rule) for h, t, rule in trivial_variants(held_out, training)}
    assert found == {("what is the SLT program", "what is the SLT programme", "within 2 character edits"),
                     ("Thanks!", "thanks", "the same text")}


# -- the held-out set -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def training() -> list[Example]:
    return [example for path in TRAINING for example in load_examples(path)]


@pytest.fixture(scope="module", params=sorted(HELD_OUT))
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def held_out(language: str) -> list[Example]:
    return load_examples(HELD_OUT[language])


def test_the_training_files_are_the_english_and_swedish_ones() -> None:
    assert [path.name for path in TRAINING] == ["nlu.yml", "nlu_sv.yml"]


def test_the_held_out_set_has_no_trivial_variants_of_training_examples(held_out, training) -> None:
    found = trivial_variants(held_out, training)
    listing = "\n".join(f"  {h.intent}: {h.text!r} ~ {t.intent}: {t.text!r} ({rule})" for h, t, rule in found)
    assert not found, f"{len(found)} of {len(held_out)} held-out examples are trivial variants:\n{listing}"


def test_every_held_out_intent_is_trained_and_no_held_out_example_repeats(held_out, training) -> None:
    assert {e.intent for e in held_out} <= {e.intent for e in training}
    repeated = [text for text, n in Counter(e.normalised for e in held_out).items() if n > 1]
    assert not repeated


def test_the_held_out_set_is_large_enough(held_out, language) -> None:
    assert len(held_out) >= MIN_HELD_OUT[language]


def test_the_swedish_set_covers_every_trained_intent(training) -> None:
    held_out = {e.intent for e in load_examples(HELD_OUT["sv"])}
    assert {e.intent for e in training} - held_out == set()
