"""Over the shipped catalogue: every entry can give a sentence as its reason, and no reason shown for a
labelled need is a keyword list or the name line.

The index is built with the fake embedder (fast, no model): which sentence wins then rests on the shared words
and the fake's word overlap, and every path of the choice is still taken over the real texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index.build import build_index
from index.catalogue import Catalogue, Entry, load_catalogue
from index.engine import SearchEngine, SearchMode
from index.explain import MAX_REASON_CHARS, reason_sentences
from index.text import TextProcessor
from tests.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "knowledge")


@pytest.fixture(scope="module")
def engine(catalogue: Catalogue, processor: TextProcessor) -> SearchEngine:
    embedder = HashingEmbedder()
    state, _ = build_index(catalogue, embedder, processor)
    return SearchEngine(state, embedder, processor)


def labelled_needs() -> list[str]:
    queries = yaml.safe_load((ROOT / "tests/eval/queries.yaml").read_text(encoding="utf-8"))["queries"]
    messages = yaml.safe_load((ROOT / "tests/eval/multipart.yaml").read_text(encoding="utf-8"))["needs"]
    return ([q["text"] for q in queries] + [m["text"] for m in messages]
            + [p["text"] for m in messages for p in m["parts"]])


def sentences_of(entry: Entry, processor: TextProcessor) -> list[str]:
    return processor.readable_sentences(entry.summary) + processor.readable_sentences(entry.description)


def assert_readable(reason: str, entry: Entry, processor: TextProcessor) -> None:
    """A sentence of the entry's own summary or description (whole, or cut with "…"), never its name line or
    keywords."""
    whole = [s for s in sentences_of(entry, processor) if s == reason or
             (reason.endswith("…") and s.startswith(reason[:-1]))]
    assert whole, f"{entry.id}: {reason!r} is not a sentence of the entry"
    assert len(reason) <= MAX_REASON_CHARS
    assert not reason.startswith((f"{entry.name} (", f"{entry.name}:", f"{entry.name},"))
    assert reason != entry.name and not reason.startswith(entry.organisation + ".")
    keywords = [k.casefold() for k in entry.keywords]
    if len(keywords) >= 2:
        assert ", ".join(keywords[:2]) not in reason.casefold(), f"{entry.id}: {reason!r} lists keywords"


def test_every_entry_has_a_readable_sentence_that_does_not_repeat_its_name(catalogue: Catalogue,
                                                                           processor: TextProcessor) -> None:
    for entry in catalogue.entries:
        sentences = reason_sentences(entry, [], processor)
        assert sentences, entry.id
        assert not any(s.text.casefold().startswith(entry.name.casefold()) for s in sentences), entry.id
        assert all(len(s.text.split()) >= 4 and (s.text[0].isupper() or s.text[0].isdigit()
                                                 or not s.text.split()[0].islower()) for s in sentences), entry.id


def test_every_sentence_is_found_in_a_passage(engine: SearchEngine, processor: TextProcessor) -> None:
    # The dense score of a sentence is its passage's; a sentence in no passage would only count its words.
    for document in engine.state.documents:
        sentences = reason_sentences(document.entry, document.passages, processor)
        assert all(s.passage is not None for s in sentences), document.entry.id


@pytest.mark.parametrize("mode", [SearchMode.HYBRID, SearchMode.KEYWORD])
def test_no_reason_for_a_labelled_need_is_a_keyword_list(engine: SearchEngine, processor: TextProcessor,
                                                        mode: SearchMode) -> None:
    needs = labelled_needs()
    assert len(needs) > 350
    for need in needs:
        for hit in engine.search(need, top=3, mode=mode):
            assert_readable(hit.explanation.reason, hit.entry, processor)
