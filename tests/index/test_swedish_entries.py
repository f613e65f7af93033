"""An entry's Swedish name and summary: a passage of their own, words in the keyword document, and the index
updating when they change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from index.build import BuildOptions, build_index, open_index
from index.catalogue import Catalogue, load_catalogue
from index.documents import entry_passages, prepare_entry
from index.engine import SearchEngine, SearchMode
from index.text import TextProcessor
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue


def _by_id(folder: Path):
    return load_catalogue(folder).by_id()


def test_the_swedish_summary_is_a_passage_of_its_own_under_the_swedish_name(
        sample_dir: Path, processor: TextProcessor) -> None:
    entries = _by_id(sample_dir)
    flow = entry_passages(entries["flow-flemingsberg"], processor)
    assert flow[0].startswith("Flow cytometry core (") and flow[0].endswith("Flow cytometry analysis and cell sorting.")
    assert flow[1] == ("Kärnfaciliteten för flödescytometri (Karolinska Institutet). "
                       "Analys och cellsortering med flödescytometri.")
    vecura = entry_passages(entries["vecura-gmp"], processor)  # no Swedish name: the name stands in
    assert vecura[1] == ("Vecura (Karolinska University Hospital). "
                         "GMP-tillverkning av virala vektorer och cellterapiprodukter för kliniska prövningar.")


def _without_swedish(catalogue: Catalogue) -> Catalogue:
    """The catalogue as an index built before the Swedish fields existed saw it (the validator now requires
    ``summary_sv``, so such entries come only from older indexes)."""
    return Catalogue(tuple(dataclasses.replace(e, summary_sv="", name_sv="") for e in catalogue.entries))


def test_an_entry_without_a_swedish_summary_has_no_swedish_passage(sample_dir: Path, processor: TextProcessor) -> None:
    with_swedish = load_catalogue(sample_dir)
    flow = with_swedish.by_id()["flow-flemingsberg"]
    passages = entry_passages(_without_swedish(with_swedish).by_id()["flow-flemingsberg"], processor)
    assert passages == [p for p in entry_passages(flow, processor) if not p.startswith(flow.name_sv)]
    assert not any("Analys" in p for p in passages)


def test_the_swedish_name_and_summary_are_keyword_words(sample_dir: Path, processor: TextProcessor) -> None:
    lemmas = prepare_entry(_by_id(sample_dir)["almi-loans"], processor).lemmas
    assert lemmas.count("innovationslån") == 2  # the Swedish name weighs like the name
    assert {"lån", "innovativa", "företag"} <= set(lemmas)


def test_a_swedish_need_finds_the_entry_through_its_swedish_summary(sample_engine: SearchEngine) -> None:
    # "tillverkning", "prövningar" and "kliniska" are only in Vecura's Swedish summary.
    for mode in (SearchMode.KEYWORD, SearchMode.HYBRID):
        hits = sample_engine.search("tillverkning för kliniska prövningar", top=3, mode=mode)
        assert hits[0].entry.id == "vecura-gmp", mode
    assert sample_engine.search("kryo-elektronmikroskopi", top=1, mode=SearchMode.KEYWORD)[0].entry.id == \
        "cryo-em-solna"


def test_without_the_swedish_summary_the_swedish_need_finds_nothing_there(
        sample_dir: Path, embedder: HashingEmbedder, processor: TextProcessor) -> None:
    state, _ = build_index(_without_swedish(load_catalogue(sample_dir)), embedder, processor)
    hits = SearchEngine(state, embedder, processor).search("tillverkning för kliniska prövningar", top=3,
                                                           mode=SearchMode.KEYWORD)
    assert "vecura-gmp" not in [h.entry.id for h in hits]


def test_a_changed_swedish_summary_re_embeds_that_entry_only(tmp_path: Path, embedder: HashingEmbedder,
                                                            processor: TextProcessor) -> None:
    folder = tmp_path / "index"
    records = [dict(r) for r in SAMPLE]
    open_index(folder, load_catalogue(write_catalogue(tmp_path / "a", records)), embedder, processor)
    records[2]["summary_sv"] = "Cellsortering och flödescytometri för immunceller."
    embedder.encoded.clear()
    _, report = open_index(folder, load_catalogue(write_catalogue(tmp_path / "b", records)), embedder, processor)
    assert report is not None and not report.full
    assert embedder.encoded and all(p.startswith(("Flow cytometry core", "Kärnfaciliteten")) for p in embedder.encoded)
    assert "Kärnfaciliteten för flödescytometri (Karolinska Institutet). Cellsortering och flödescytometri för " \
           "immunceller." in embedder.encoded


def test_without_swedish_passages_the_swedish_summary_is_still_a_keyword_document(
        sample_dir: Path, embedder: HashingEmbedder, processor: TextProcessor) -> None:
    catalogue = load_catalogue(sample_dir)
    state, _ = build_index(catalogue, embedder, processor, options=BuildOptions(swedish_passages=False))
    with_passages, _ = build_index(catalogue, HashingEmbedder(), processor)
    assert state.manifest.passage_count == with_passages.manifest.passage_count - len(catalogue)
    assert not any("GMP-tillverkning" in p for d in state.documents for p in d.passages)
    hits = SearchEngine(state, embedder, processor).search("tillverkning för kliniska prövningar", top=1,
                                                           mode=SearchMode.KEYWORD)
    assert hits[0].entry.id == "vecura-gmp"
