from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from index.catalogue import EntryType, Site
from index.engine import SearchEngine, SearchFilters, SearchMode
from index.errors import QueryError
from index.explain import MAX_REASON_CHARS
from index.fusion import FusionMethod, Normalisation, convex_combination, reciprocal_rank_fusion


def ids(hits) -> list[str]:
    return [h.entry.id for h in hits]


def test_finds_the_entry_that_matches_the_need(sample_engine: SearchEngine) -> None:
    hits = sample_engine.search("GMP manufacturing of viral vectors", top=3)
    assert hits[0].entry.id == "vecura-gmp"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score == pytest.approx(1.0)  # first for both retrievers
    assert all(0 < h.score <= 1 for h in hits)
    assert hits[0].similarity > hits[-1].similarity


def test_every_hit_is_explained_briefly(sample_engine: SearchEngine) -> None:
    for hit in sample_engine.search("cell sorting with flow cytometry", top=4):
        assert hit.explanation.reason
        assert len(hit.explanation.reason) <= MAX_REASON_CHARS + 1
    best = sample_engine.search("cell sorting with flow cytometry", top=1)[0]
    assert {"sorting", "flow", "cytometry"} <= set(best.explanation.terms)
    assert best.to_dict()["terms"] == list(best.explanation.terms)


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (SearchFilters(types=frozenset({EntryType.PROGRAMME})), {"almi-loans"}),
        (SearchFilters(types=frozenset({EntryType.EXPERT})), {"contact-desk"}),
        (SearchFilters(sites=frozenset({Site.HAGASTADEN})), {"cryo-em-solna", "flow-biomedicum"}),
        (SearchFilters(organisations=frozenset({"scilifelab"})), {"cryo-em-solna"}),
        (SearchFilters(open_to_companies=True, sites=frozenset({Site.FLEMINGSBERG}),
                       types=frozenset({EntryType.FACILITY})), {"vecura-gmp", "flow-flemingsberg"}),
        (SearchFilters(exclude_ids=frozenset({"flow-flemingsberg", "flow-biomedicum"})), None),
    ],
)
@pytest.mark.parametrize("mode", list(SearchMode))
def test_filters_restrict_every_mode(sample_engine: SearchEngine, filters: SearchFilters, allowed, mode) -> None:
    hits = sample_engine.search("flow cytometry cell sorting GMP loans protein genome lab business desk", top=10,
                                filters=filters, mode=mode)
    assert hits
    if allowed is not None:
        assert set(ids(hits)) <= allowed
    for excluded in filters.exclude_ids:
        assert excluded not in ids(hits)


def test_filter_that_matches_nothing_returns_nothing(sample_engine: SearchEngine) -> None:
    filters = SearchFilters(organisations=frozenset({"no such organisation"}))
    assert sample_engine.search("flow cytometry", filters=filters) == []


def test_closed_entries_are_kept_unless_open_filter(sample_engine: SearchEngine) -> None:
    assert "closed-lab" in ids(sample_engine.search("genome sequencing", top=3))
    open_only = SearchFilters(open_to_companies=True)
    assert "closed-lab" not in ids(sample_engine.search("genome sequencing", top=10, filters=open_only))


def _with_fusion(engine: SearchEngine, **changes) -> SearchEngine:
    return SearchEngine(engine.state, engine._embedder, engine._processor,
                        dataclasses.replace(engine.settings, **changes))


def _brute_force_scores(engine: SearchEngine, query: str) -> tuple[list[float], np.ndarray]:
    """Every entry's best-passage cosine similarity and BM25 score, computed without the engine's shortcuts."""
    state = engine.state
    text_vector = engine._embedder.encode_queries([query])[0]
    best = [float(np.max(state.dense.vectors(np.array(d.passage_ids)) @ text_vector)) for d in state.documents]
    return best, state.keyword.scores(engine._processor.lemmas(query))


def test_hybrid_order_is_reciprocal_rank_fusion_of_full_rankings(sample_engine: SearchEngine) -> None:
    """Reference: rank every entry densely (best passage, brute force) and by BM25, then fuse."""
    sample_engine = _with_fusion(sample_engine, fusion=FusionMethod.RRF)
    state = sample_engine.state
    for query in ["flow cytometry in Solna", "loans for small companies", "protein structure microscopy"]:
        text_vector = sample_engine._embedder.encode_queries([query])[0]
        best = []
        for d in state.documents:
            best.append(float(np.max(state.dense.vectors(np.array(d.passage_ids)) @ text_vector)))
        dense_rank = sorted(range(len(best)), key=lambda i: (-best[i], i))
        lemmas = sample_engine._processor.lemmas(query)
        scores = state.keyword.scores(lemmas)
        keyword_rank = [i for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)) if scores[i] > 0]
        settings = sample_engine.settings
        fused = reciprocal_rank_fusion([dense_rank, keyword_rank], k=settings.rrf_k,
                                       weights=[settings.dense_weight, settings.keyword_weight])
        expected = [state.documents[i].entry.id for i, _ in fused]
        assert ids(sample_engine.search(query, top=len(state.documents))) == expected


@pytest.mark.parametrize("normalisation", list(Normalisation))
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.8, 1.0])
def test_hybrid_order_is_the_convex_combination_of_exact_scores(sample_engine: SearchEngine, normalisation,
                                                                alpha: float) -> None:
    """Reference: every entry that either retriever puts among its candidates, scored exactly by both."""
    engine = _with_fusion(sample_engine, fusion=FusionMethod.CONVEX, dense_share=alpha, normalisation=normalisation)
    state = engine.state
    for query in ["flow cytometry in Solna", "loans for small companies", "protein structure microscopy"]:
        dense, keyword = _brute_force_scores(engine, query)
        candidates = set(sorted(range(len(dense)), key=lambda i: (-dense[i], i))[:engine.settings.candidates])
        positive = [i for i in range(len(keyword)) if keyword[i] > 0]
        candidates |= set(sorted(positive, key=lambda i: (-keyword[i], i))[:engine.settings.candidates])
        fused = convex_combination([{i: dense[i] for i in candidates}, {i: float(keyword[i]) for i in candidates}],
                                   [alpha, 1 - alpha], normalisation=normalisation, floors=[-1.0, 0.0])
        hits = engine.search(query, top=len(state.documents))
        assert ids(hits) == [state.documents[i].entry.id for i, _ in fused]
        assert [h.score for h in hits] == pytest.approx([score for _, score in fused])


def test_single_mode_orders_follow_their_retriever(sample_engine: SearchEngine) -> None:
    keyword = sample_engine.search("loans", top=3, mode=SearchMode.KEYWORD)
    assert ids(keyword) == ["almi-loans"]
    assert keyword[0].similarity is None and keyword[0].keyword_score > 0
    dense = sample_engine.search("loans", top=3, mode=SearchMode.DENSE)
    assert dense[0].entry.id == "almi-loans" and len(dense) == 3


def test_results_are_deterministic(sample_engine: SearchEngine) -> None:
    first = [h.to_dict() for h in sample_engine.search("cells", top=7)]
    for _ in range(3):
        assert [h.to_dict() for h in sample_engine.search("cells", top=7)] == first


@pytest.mark.parametrize("query", ["", "   \n\t", "\x00\x1b\x07", "<p></p>", "x" * 100_000])
def test_bad_queries_raise_query_error(sample_engine: SearchEngine, query: str) -> None:
    with pytest.raises(QueryError):
        sample_engine.search(query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("<script>alert('x')</script> flow cytometry", "flow"),
        ("flödescytometri för immunceller", "flow-flemingsberg"),
        ("🧪 GMP manufacturing 🧬", "vecura-gmp"),
        ("GMP\x00 manufacturing\x07 of vectors", "vecura-gmp"),
    ],
)
def test_odd_but_meaningful_queries_give_results(sample_engine: SearchEngine, query: str, expected: str) -> None:
    hits = sample_engine.search(query, top=2)
    assert any(expected in h.entry.id for h in hits)
    for hit in hits:
        assert "<" not in hit.explanation.reason


def test_top_out_of_range_is_refused(sample_engine: SearchEngine) -> None:
    with pytest.raises(ValueError, match="top"):
        sample_engine.search("cells", top=0)
    with pytest.raises(ValueError, match="top"):
        sample_engine.search("cells", top=10_000)


def test_entry_lookup(sample_engine: SearchEngine) -> None:
    assert sample_engine.entry("vecura-gmp").name == "Vecura"
    assert sample_engine.entry("nope") is None
    assert len(list(sample_engine.entries())) == len(sample_engine)
