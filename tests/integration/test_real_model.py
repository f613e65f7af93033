"""The real embedding model on the real catalogue: the behaviour a company sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import open_index
from index.catalogue import Site, load_catalogue
from index.embedding import SentenceTransformerEmbedder, resolve_model
from index.engine import SearchEngine, SearchFilters, SearchMode
from index.errors import EmbeddingModelError
from navigator.evaluation import check, evaluate, load_queries
from navigator.settings import Settings
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory, real_embedder, processor) -> SearchEngine:
    catalogue = load_catalogue(PROJECT_ROOT / "knowledge")
    folder = tmp_path_factory.mktemp("index") / "index"
    # Built as `navigator index build` builds it for this model (with MiniLM: no Swedish passage).
    options = Settings.from_env({}).build_options
    state, report = open_index(folder, catalogue, real_embedder, processor, options=options)
    assert report is not None and report.full
    return SearchEngine(state, real_embedder, processor)


def test_model_loads_offline_from_the_package(real_embedder: SentenceTransformerEmbedder) -> None:
    assert resolve_model("all-MiniLM-L6-v2").joinpath("model.safetensors").exists()
    vectors = real_embedder.encode_passages(["cryo-EM of a membrane protein",
                                    "electron cryo-microscopy structure of a transmembrane protein",
                                    "a loan for a small company"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert related > 0.5 and related > unrelated + 0.3


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="NAVIGATOR_EMBEDDING_MODEL"):
        SentenceTransformerEmbedder(str(tmp_path / "no-model"))


@pytest.mark.parametrize(
    ("need", "acceptable"),
    [
        ("GMP manufacturing of a viral vector for our phase I trial", {"vecura-gmp", "kcc-cell-therapy"}),
        ("cryo-EM structure of our protein", {"scilifelab-cryo-em-stockholm", "scilifelab-cryo-em-umea"}),
        ("flödescytometri och cellsortering i Flemingsberg", {"flow-cytometry-flemingsberg"}),
        ("we need a loan to develop our medical device", {"almi-loans"}),
        ("who can help us understand the MDR and CE marking", {"contact-regulatory-advisor", "mpa-innovation-office"}),
    ],
)
def test_typical_needs_find_the_right_entry_in_the_top_three(engine: SearchEngine, need: str, acceptable: set) -> None:
    hits = engine.search(need, top=3)
    assert acceptable & {h.entry.id for h in hits}, [h.entry.id for h in hits]
    assert all(h.explanation.reason for h in hits)


def test_site_filter_with_the_real_catalogue(engine: SearchEngine) -> None:
    hits = engine.search("flow cytometry cell sorting", top=5, filters=SearchFilters(sites=frozenset({Site.HAGASTADEN})))
    assert hits and all(h.entry.site is Site.HAGASTADEN for h in hits)
    assert hits[0].entry.id == "biomedicum-flow-cytometry"


def test_hybrid_quality_on_the_held_out_split(engine: SearchEngine) -> None:
    """The gate of `navigator eval --check` (thresholds in navigator.evaluation, documented in docs/benchmarks.md),
    on an index built here from the shipped catalogue."""
    queries = [q for q in load_queries(PROJECT_ROOT / "tests" / "eval" / "queries.yaml",
                                       known_ids=[e.id for e in engine.entries()]) if q.split == "test"]
    assert len(queries) >= 80
    results = {mode: evaluate(engine, queries, mode) for mode in SearchMode}
    assert check(results) == []
