"""Telling apart the needs in one message: the textual cut, and the engine's check of each part."""

from __future__ import annotations

import pytest

from index.engine import PartHits, SearchEngine, SearchMode
from index.errors import QueryError
from index.needs import NeedPart, split_needs, topic_of


def texts(message: str, max_parts: int = 3) -> list[str]:
    return [p.text for p in split_needs(message, max_parts)]


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("We need to test our antibody in a mouse model of lung fibrosis, and later we'll need GMP production",
         ["We need to test our antibody in a mouse model of lung fibrosis", "we'll need GMP production"]),
        ("cryo-EM of our protein; separately a loan", ["cryo-EM of our protein", "a loan"]),
        ("flow cytometry as well as a GMP facility", ["flow cytometry", "a GMP facility"]),
        ("office space, plus an investor", ["office space", "an investor"]),
        ("Sequencing first. Then we want help with the analysis",
         ["Sequencing first", "we want help with the analysis"]),
        ("Sequencing of tumours. We also need a biobank", ["Sequencing of tumours", "We also need a biobank"]),
        ("cell sorting and also electron microscopy", ["cell sorting", "electron microscopy"]),
        ("Vi behöver flödescytometri och sedan elektronmikroskopi", ["Vi behöver flödescytometri",
                                                                    "elektronmikroskopi"]),
        ("lån till bolaget samt rådgivning om export", ["lån till bolaget", "rådgivning om export"]),
        ("PET på råttor och även märkning med kol-11", ["PET på råttor", "märkning med kol-11"]),
        ("labbplats i Solna och vi behöver också ett lån", ["labbplats i Solna", "vi behöver också ett lån"]),
    ],
)
def test_messages_are_cut_where_the_next_need_starts(message: str, parts: list[str]) -> None:
    assert texts(message) == parts


@pytest.mark.parametrize(
    "message",
    [
        "flow cytometry and cell sorting",
        "Var kan vi göra RNA-seq och få hjälp med bioinformatiken i Flemingsberg?",
        "GMP production of lentiviral vector for our phase 1 gene therapy trial, Karolinska Huddinge",
        "Also, we need sequencing",
        "Our target is floppy; the X-ray approach failed",
        "test it in the lab and then on real patients",
        "testa den i labbet och sedan på riktiga patienter",
        "",
    ],
)
def test_a_single_need_is_not_cut(message: str) -> None:
    assert len(split_needs(message)) == 1


def test_at_most_max_parts_and_the_rest_stays_in_the_last() -> None:
    message = "sequencing; also imaging; also a loan; also an office"
    assert texts(message) == ["sequencing", "imaging", "a loan; also an office"]
    assert texts(message, max_parts=1) == [message]
    with pytest.raises(ValueError, match="max_parts"):
        split_needs(message, max_parts=0)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("we'll need GMP production", "GMP production"),
        ("We need to test our antibody in mice.", "test our antibody in mice"),
        ("Our startup needs a lab bench", "a lab bench"),
        ("we are also looking for a grant", "a grant"),
        ("Vi behöver även flödescytometri", "flödescytometri"),
        ("vi vill att mäta proteiner", "mäta proteiner"),
        ("Help with CE marking", "Help with CE marking"),
        ("we need", "we need"),
    ],
)
def test_topic_drops_the_request_words(text: str, topic: str) -> None:
    assert topic_of(text) == topic
    assert NeedPart.of(text).topic == topic


def ids(part: PartHits) -> list[str]:
    return [h.entry.id for h in part.hits]


@pytest.mark.parametrize("mode", list(SearchMode))
@pytest.mark.parametrize("message", ["GMP manufacturing of viral vectors", "cells", "  loans for a <b>company</b> "])
def test_a_single_need_is_exactly_the_plain_search(sample_engine: SearchEngine, message: str,
                                                   mode: SearchMode) -> None:
    [part] = sample_engine.search_parts(message, top=4, mode=mode)
    assert part.hits == sample_engine.search(message, top=4, mode=mode)
    assert part.need.text == " ".join(message.replace("<b>", "").replace("</b>", "").split())


def test_two_needs_get_their_own_hits(sample_engine: SearchEngine) -> None:
    parts = sample_engine.search_parts("GMP manufacturing of viral vectors, and later a loan for our small company",
                                       top=2)
    assert [p.need.text for p in parts] == ["GMP manufacturing of viral vectors", "a loan for our small company"]
    assert ids(parts[0])[0] == "vecura-gmp" and ids(parts[1])[0] == "almi-loans"
    assert [h.rank for h in parts[1].hits] == [1, 2]
    assert parts[1].hits == sample_engine.search("a loan for our small company", top=2)
    assert parts[1].to_dict()["topic"] == "a loan for our small company"


def test_parts_with_the_same_best_match_are_one_need(sample_engine: SearchEngine) -> None:
    message = "flow cytometry in Flemingsberg, and also cell sorting by flow cytometry in Flemingsberg"
    [part] = sample_engine.search_parts(message, top=3)
    assert part.need.text == message and part.hits == sample_engine.search(message, top=3)


def test_a_part_without_searchable_words_joins_its_neighbour(sample_engine: SearchEngine) -> None:
    parts = sample_engine.search_parts("GMP manufacturing of viral vectors; and then the; also a loan for a company",
                                       top=1)
    assert [p.need.text for p in parts] == ["GMP manufacturing of viral vectors, the", "a loan for a company"]


def test_search_parts_checks_its_input(sample_engine: SearchEngine) -> None:
    with pytest.raises(QueryError):
        sample_engine.search_parts("   ")
    with pytest.raises(ValueError, match="top"):
        sample_engine.search_parts("cells", top=0)
