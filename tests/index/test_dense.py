from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex, DenseKind
from index.errors import IndexCorruptError


def unit_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize(("n", "d", "k"), [(1, 8, 1), (17, 5, 3), (257, 31, 10), (1000, 64, 1000)])
def test_exact_index_matches_brute_force(n: int, d: int, k: int) -> None:
    rng = np.random.default_rng(n)
    vectors = unit_vectors(rng, n, d)
    ids = rng.choice(10**12, size=n, replace=False).astype(np.int64)
    index = DenseIndex.build(vectors, ids, d)
    assert index.kind is DenseKind.EXACT
    query = unit_vectors(rng, 1, d)[0]
    got_ids, got_scores = index.search(query, k)
    scores = vectors @ query
    order = np.lexsort((ids, -scores))[: min(k, n)]
    np.testing.assert_allclose(got_scores, scores[order], rtol=1e-5, atol=1e-6)
    # Ties aside, the ids agree: compare the scores of what was returned with the reference.
    np.testing.assert_allclose(np.sort(scores[np.isin(ids, got_ids)])[::-1], scores[order], rtol=1e-5, atol=1e-6)


def test_ties_are_broken_by_smaller_id() -> None:
    vectors = np.tile(np.eye(4, dtype=np.float32)[0], (5, 1))
    index = DenseIndex.build(vectors, np.array([50, 10, 40, 20, 30]), 4)
    ids, _ = index.search(np.eye(4, dtype=np.float32)[0], 5)
    assert ids.tolist() == [10, 20, 30, 40, 50]


def test_ivf_index_above_threshold_finds_most_exact_neighbours() -> None:
    rng = np.random.default_rng(0)
    centres = unit_vectors(rng, 40, 32)
    points = centres[rng.integers(0, 40, 4000)] + 0.05 * rng.standard_normal((4000, 32)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    ids = np.arange(4000, dtype=np.int64) * 7
    approximate = DenseIndex.build(points, ids, 32, ann_threshold=1000, nprobe=16)
    exact = DenseIndex.build(points, ids, 32, ann_threshold=10**9)
    assert approximate.kind is DenseKind.IVF and exact.kind is DenseKind.EXACT
    recalls = []
    for query in unit_vectors(rng, 50, 32):
        a, _ = approximate.search(query, 10)
        e, _ = exact.search(query, 10)
        recalls.append(len(set(a) & set(e)) / 10)
    assert np.mean(recalls) >= 0.9


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_allowed_ids_restrict_results(threshold: int) -> None:
    rng = np.random.default_rng(1)
    vectors = unit_vectors(rng, 500, 16)
    ids = np.arange(500, dtype=np.int64)
    index = DenseIndex.build(vectors, ids, 16, ann_threshold=threshold, nprobe=64)
    allowed = np.array([3, 77, 401], dtype=np.int64)
    got, scores = index.search(vectors[77], 10, allowed_ids=allowed)
    assert set(got.tolist()) <= set(allowed.tolist())
    assert got[0] == 77 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert index.search(vectors[0], 5, allowed_ids=np.array([], dtype=np.int64))[0].size == 0


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_remove_and_add_in_place(threshold: int) -> None:
    rng = np.random.default_rng(2)
    vectors = unit_vectors(rng, 300, 16)
    index = DenseIndex.build(vectors, np.arange(300), 16, ann_threshold=threshold, nprobe=64)
    assert index.remove(np.array([5, 6, 999])) == 2
    assert 5 not in index.search(vectors[5], 300)[0]
    index.add(vectors[5:6], np.array([1005]))
    assert index.search(vectors[5], 1)[0].tolist() == [1005]
    assert len(index) == 299
    np.testing.assert_allclose(index.vectors(np.array([1005]))[0], vectors[5], atol=1e-6)
    with pytest.raises(KeyError):
        index.vectors(np.array([5]))


def test_bad_input_is_refused_with_a_reason() -> None:
    index = DenseIndex.build(np.eye(4, dtype=np.float32), np.arange(4), 4)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        index.search(np.ones(3, dtype=np.float32), 1)
    with pytest.raises(ValueError, match="NaN"):
        index.search(np.array([np.nan, 0, 0, 0]), 1)
    with pytest.raises(ValueError, match="ids"):
        DenseIndex.build(np.eye(4, dtype=np.float32), np.arange(3), 4)
    with pytest.raises(ValueError, match="unique"):
        DenseIndex.build(np.eye(4, dtype=np.float32), np.array([1, 1, 2, 3]), 4)
    # float64 input is converted, not rejected
    assert index.search(np.eye(4)[2], 1)[0].tolist() == [2]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    vectors = unit_vectors(rng, 600, 8)
    for threshold in (10**9, 100):
        index = DenseIndex.build(vectors, np.arange(600), 8, ann_threshold=threshold, nprobe=64)
        index.save(tmp_path / "dense.faiss")
        loaded = DenseIndex.load(tmp_path / "dense.faiss", nprobe=64)
        assert loaded.kind is index.kind
        np.testing.assert_array_equal(loaded.search(vectors[9], 5)[0], index.search(vectors[9], 5)[0])
    (tmp_path / "dense.faiss").write_bytes(b"not an index")
    with pytest.raises(IndexCorruptError):
        DenseIndex.load(tmp_path / "dense.faiss")
