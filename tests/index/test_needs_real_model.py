"""The split search with the real embedding model on the real catalogue: the behaviour a company sees."""

from __future__ import annotations

import pytest

from index.build import open_index
from index.catalogue import load_catalogue
from index.engine import SearchEngine
from navigator.evaluation import evaluate_multipart, evaluate_single_needs_split, load_messages, load_queries
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory, real_embedder, processor) -> SearchEngine:
    catalogue = load_catalogue(PROJECT_ROOT / "knowledge")
    state, _ = open_index(tmp_path_factory.mktemp("index") / "index", catalogue, real_embedder, processor)
    return SearchEngine(state, real_embedder, processor)


def test_the_mouse_study_and_the_gmp_production_each_get_their_matches(engine: SearchEngine) -> None:
    parts = engine.search_parts("We need to test our antibody in a mouse model of lung fibrosis, and later we'll "
                                "need GMP production", top=3)
    assert [p.need.topic for p in parts] == ["test our antibody in a mouse model of lung fibrosis", "GMP production"]
    animals = {"pkl-preclinical-flemingsberg", "comparative-medicine-flemingsberg", "akm-solna", "mouse-models-ki",
               "contact-akm-solna", "contact-pkl-flemingsberg", "contact-comparative-medicine-flemingsberg"}
    assert animals & {h.entry.id for h in parts[0].hits}
    assert {"vecura-gmp", "atmp-pre-gmp-flemingsberg"} & {h.entry.id for h in parts[1].hits}
    for part in parts:
        for hit in part.hits:
            assert not hit.explanation.reason.startswith(hit.entry.name)


def test_split_search_serves_more_messages_and_seldom_cuts_a_single_need(engine: SearchEngine) -> None:
    known = [e.id for e in engine.entries()]
    messages = load_messages(PROJECT_ROOT / "tests/eval/multipart.yaml", known)
    for split, scores in evaluate_multipart(engine, messages).items():
        # Against the 3 hits a plain search shows; docs/benchmarks.md also compares with 3 hits per need.
        assert scores.after > scores.before, split
    queries = load_queries(PROJECT_ROOT / "tests/eval/queries.yaml", known)
    cut = sum(count for count, _ in evaluate_single_needs_split(engine, queries).values())
    assert cut <= len(queries) // 100
