"""Reasons: one readable sentence of the entry's own text, chosen for the need, on tiny hand-made entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from index.catalogue import load_catalogue
from index.engine import SearchEngine, SearchMode
from index.explain import (MAX_REASON_CHARS, Explanation, ReasonSentence, best_sentence, reason_sentences,
                           term_weights, trim)
from index.keyword import KeywordIndex
from index.text import TextProcessor
from tests.fakes import HashingEmbedder, entry, expert, write_catalogue

SORTER = entry(
    "sorter", name="Sorting core", summary="Shared instruments for cell analysis.",
    description="Sorting core is a facility at the campus. The staff run spectral flow cytometry on immune cells. "
                "A company asking \"can you sort our stem cells?\" would start here. "
                "Training is given to new users every month.",
    keywords=["flödescytometri", "cellsortering", "FACS"])
OTHER = entry("other", summary="Electron microscopy of tissue.",
              description="The unit images tissue sections by electron microscopy for research groups.")


@pytest.fixture
def tiny_engine(tmp_path: Path, processor: TextProcessor) -> SearchEngine:
    embedder = HashingEmbedder()
    state, _ = build_index(load_catalogue(write_catalogue(tmp_path / "k", [SORTER, OTHER, expert(serves=["sorter"])])), embedder, processor)
    return SearchEngine(state, embedder, processor)


def reason_for(engine: SearchEngine, query: str, entry_id: str, mode: SearchMode = SearchMode.HYBRID) -> str:
    return next(h for h in engine.search(query, top=3, mode=mode) if h.entry.id == entry_id).explanation.reason


@pytest.mark.parametrize("mode", list(SearchMode))
def test_the_reason_is_the_sentence_that_shares_the_rare_words(tiny_engine: SearchEngine, mode: SearchMode) -> None:
    assert reason_for(tiny_engine, "spectral cytometry of immune cells", "sorter", mode) == (
        "The staff run spectral flow cytometry on immune cells.")


@pytest.mark.parametrize("mode", list(SearchMode))
def test_a_need_matched_by_keywords_only_gets_a_sentence_not_the_keywords(tiny_engine: SearchEngine,
                                                                          mode: SearchMode) -> None:
    reason = reason_for(tiny_engine, "flödescytometri och cellsortering", "sorter", mode)
    assert "flödescytometri" not in reason and "," not in reason
    # No sentence shares a word: the summary (first, and in the best passage) is the reason.
    assert reason == "Shared instruments for cell analysis."


def test_the_hit_publishes_its_reason_and_terms(tiny_engine: SearchEngine) -> None:
    hit = tiny_engine.search("spectral cytometry", top=1)[0]
    published = hit.to_dict()
    assert (published["reason"], published["terms"]) == (hit.explanation.reason, list(hit.explanation.terms))
    assert not hit.explanation.reason.startswith(hit.entry.name)


def test_sentences_skip_the_name_line_and_mend_quoted_questions(processor: TextProcessor, tmp_path: Path) -> None:
    record = load_catalogue(write_catalogue(tmp_path / "k", [SORTER, expert(serves=["sorter"])])).by_id()["sorter"]
    texts = [s.text for s in reason_sentences(record, ["Sorting core (KI). Shared instruments for cell analysis."],
                                              processor)]
    assert texts == [
        "Shared instruments for cell analysis.",
        "The staff run spectral flow cytometry on immune cells.",
        "A company asking \"can you sort our stem cells?\" would start here.",
        "Training is given to new users every month.",
    ]  # "Sorting core is a facility …" opens with the name shown just before the reason


def test_sentences_keep_the_name_sentence_when_nothing_else_is_left(processor: TextProcessor, tmp_path: Path) -> None:
    record = load_catalogue(write_catalogue(tmp_path / "k", [entry(
        "lone", name="Lone unit", summary="Lone unit is small.", description="Lone unit is small."), expert(serves=["lone"])])).by_id()["lone"]
    assert [s.text for s in reason_sentences(record, [], processor)] == ["Lone unit is small."]


def sentence(text: str, lemmas: str, passage: int | None, position: int) -> ReasonSentence:
    return ReasonSentence(text, frozenset(lemmas.split()), passage, position)


def test_best_sentence_words_first_then_meaning_then_order() -> None:
    a = sentence("A", "cell sort", 0, 0)
    b = sentence("B", "cytometry spectral", 1, 1)
    c = sentence("C", "cytometry spectral", 2, 2)
    weights = {"spectral": 2.0, "cell": 0.5}
    assert best_sentence([a, b, c], weights, None) is b  # shares the heavier word; b and c tie, b is earlier
    assert best_sentence([a, b, c], weights, [0.0, 0.1, 0.5]) is c  # the closer passage breaks the tie
    assert best_sentence([a, b, c], {"absent": 1.0}, [0.9, 0.1, 0.1]) is a  # no shared word: meaning decides
    assert best_sentence([a, b, c], {}, None) is a  # nothing at all: the first
    with pytest.raises(ValueError, match="at least one sentence"):
        best_sentence([], weights, None)


def test_term_weights_favour_rare_words() -> None:
    weights = term_weights(["company", "cryo", "company"], {"company": 90, "cryo": 2}, documents=100)
    assert list(weights) == ["company", "cryo"]
    assert weights["cryo"] > weights["company"] > 0
    assert term_weights(["unseen"], {}, documents=100)["unseen"] >= weights["cryo"]


def test_document_frequencies_count_documents_not_occurrences() -> None:
    index = KeywordIndex.build([["cell", "cell", "sort"], ["cell"], ["gmp"]])
    assert index.document_frequencies(["cell", "sort", "gmp", "absent"]) == {"cell": 2, "sort": 1, "gmp": 1,
                                                                            "absent": 0}


def test_trim_keeps_short_sentences_and_cuts_long_ones_at_a_clause() -> None:
    assert trim("Short.") == "Short."
    clause = "The unit runs assays for screening, " + "and analyses the data with staff " * 10
    cut = trim(clause, limit=60)
    assert cut == "The unit runs assays for screening…"
    words = "word " * 100
    cut = trim(words, limit=50)
    assert len(cut) <= 50 and cut.endswith("word…")
    assert len(trim("x " * 500)) <= MAX_REASON_CHARS


def test_explanation_is_frozen() -> None:
    explanation = Explanation("A sentence.", ("a",))
    with pytest.raises(AttributeError):
        explanation.reason = "other"  # type: ignore[misc]
