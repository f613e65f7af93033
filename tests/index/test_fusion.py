from __future__ import annotations

import random

import pytest

from index.fusion import best_possible_score, reciprocal_rank_fusion


def test_hand_computed_scores() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=1))
    assert fused == pytest.approx({"a": 1 / 2, "b": 1 / 3 + 1 / 2, "c": 1 / 4, "d": 1 / 3})


def test_order_and_ties_are_broken_by_item() -> None:
    fused = reciprocal_rank_fusion([["x", "y"], ["y", "x"]], k=60)
    assert [item for item, _ in fused] == ["x", "y"]  # equal scores: alphabetical


def test_weights_scale_each_ranking() -> None:
    fused = reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 3.0])
    assert fused == [("b", 3.0), ("a", 1.0)]
    assert best_possible_score([1.0, 3.0], k=0) == 4.0


def test_against_brute_force_on_random_rankings() -> None:
    rng = random.Random(3)
    for trial in range(50):
        items = list(range(rng.randint(1, 37)))
        rankings = [rng.sample(items, rng.randint(0, len(items))) for _ in range(rng.randint(1, 4))]
        k = rng.randint(0, 100)
        expected = {}
        for item in items:
            score = sum(1 / (k + r.index(item) + 1) for r in rankings if item in r)
            if any(item in r for r in rankings):
                expected[item] = score
        fused = reciprocal_rank_fusion(rankings, k=k)
        assert dict(fused) == pytest.approx(expected)
        assert [i for i, _ in fused] == sorted(expected, key=lambda i: (-expected[i], i))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="weights"):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="k must"):
        reciprocal_rank_fusion([["a"]], k=-1)
