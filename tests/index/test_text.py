from __future__ import annotations

import pytest

from index.errors import QueryError
from index.text import TextProcessor, clean_query, clean_text


def test_clean_text_removes_markup_and_control_characters() -> None:
    assert clean_text("<script>alert(1)</script> cryo&nbsp;EM\x00\x07 of\u200b proteins\n\t") == "alert(1) cryo EM of proteins"


def test_clean_text_keeps_swedish_letters_and_emoji_and_normalises_unicode() -> None:
    decomposed = "flo\u0308descytometri"  # ö typed as o + combining diaeresis
    assert clean_text(decomposed) == "flödescytometri"
    assert clean_text("lab space 🧪 på Campus") == "lab space 🧪 på Campus"


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01", "<b></b>", "!!! ???", "🧪🧬"])
def test_queries_without_searchable_text_are_refused(query: str) -> None:
    with pytest.raises(QueryError):
        clean_query(query, max_chars=100)


def test_too_long_query_is_refused_with_the_limit() -> None:
    with pytest.raises(QueryError, match="limit is 100"):
        clean_query("a" * 101, max_chars=100)
    with pytest.raises(QueryError, match="limit is 100"):
        clean_query("word " * 20_000, max_chars=100)


def test_non_text_query_is_refused() -> None:
    with pytest.raises(QueryError, match="must be text"):
        clean_query(None, max_chars=100)  # type: ignore[arg-type]


def test_terms_are_lemmatised_lower_case_without_stop_words(processor: TextProcessor) -> None:
    terms = processor.terms("We need the Manufacturing of viral vectors och celler för studier")
    assert [t.lemma for t in terms] == ["manufacture", "viral", "vector", "celler", "studier"]
    assert [t.surface for t in terms][:3] == ["Manufacturing", "viral", "vectors"]


def test_passages_group_whole_sentences(processor: TextProcessor) -> None:
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(10)]
    passages = processor.passages(" ".join(sentences), max_words=20)
    assert all(len(p.split()) <= 20 for p in passages)
    assert " ".join(passages) == " ".join(sentences)
    assert len(passages) == 5


def test_a_long_sentence_is_its_own_passage(processor: TextProcessor) -> None:
    long = " ".join(["word"] * 50) + "."
    assert processor.passages(f"Short one. {long} Short two.", max_words=20) == ["Short one.", long, "Short two."]
