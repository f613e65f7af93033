from __future__ import annotations

import random

import pytest

from index.fusion import (Normalisation, best_possible_score, convex_combination, normalise,
                          reciprocal_rank_fusion)


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


# Convex combination -----------------------------------------------------------------------------------------


def test_convex_combination_worked_by_hand() -> None:
    # Cosine similarities (floor -1) and BM25 scores (floor 0) of three entries, alpha = 0.25 for the dense side.
    dense = {"a": 0.6, "b": 0.2, "c": -0.2}
    keyword = {"a": 2.0, "b": 8.0}
    # Theoretical-min: dense a (0.6+1)/1.6 = 1, b 1.2/1.6 = 0.75, c 0.8/1.6 = 0.5; keyword a 2/8 = 0.25, b 1.
    # a: 0.25*1 + 0.75*0.25 = 0.4375; b: 0.25*0.75 + 0.75*1 = 0.9375; c: 0.25*0.5 + 0 = 0.125.
    fused = convex_combination([dense, keyword], [0.25, 0.75], normalisation=Normalisation.THEORETICAL_MIN,
                               floors=[-1.0, 0.0])
    assert [item for item, _ in fused] == ["b", "a", "c"]
    assert dict(fused) == pytest.approx({"a": 0.4375, "b": 0.9375, "c": 0.125})
    # Min-max: dense a 1, b 0.5, c 0; keyword a 0, b 1 (c unscored: 0).
    # a: 0.25; b: 0.125 + 0.75 = 0.875; c: 0.
    fused = convex_combination([dense, keyword], [0.25, 0.75], normalisation=Normalisation.MIN_MAX)
    assert [item for item, _ in fused] == ["b", "a", "c"]
    assert dict(fused) == pytest.approx({"a": 0.25, "b": 0.875, "c": 0.0})


def test_the_weight_moves_the_winner_from_one_retriever_to_the_other() -> None:
    dense, keyword = {"x": 0.9, "y": 0.1}, {"x": 1.0, "y": 5.0}
    floors = [-1.0, 0.0]
    assert convex_combination([dense, keyword], [1.0, 0.0], floors=floors)[0][0] == "x"
    assert convex_combination([dense, keyword], [0.0, 1.0], floors=floors)[0][0] == "y"


def test_normalise_edges() -> None:
    assert normalise({}, Normalisation.MIN_MAX) == {}
    assert normalise({"a": 0.0, "b": 0.0}, Normalisation.THEORETICAL_MIN, floor=0.0) == {"a": 0.0, "b": 0.0}
    assert normalise({"a": 3.0, "b": 3.0}, Normalisation.MIN_MAX) == {"a": 0.0, "b": 0.0}
    # Below the floor is clipped to 0; the best item always gets 1.
    assert normalise({"a": -2.0, "b": 1.0}, Normalisation.THEORETICAL_MIN, floor=-1.0) == {"a": 0.0, "b": 1.0}
    with pytest.raises(ValueError, match="floor"):
        normalise({"a": 1.0}, Normalisation.THEORETICAL_MIN)


def test_convex_combination_against_brute_force_on_random_scores() -> None:
    rng = random.Random(5)
    for trial in range(50):
        items = list(range(rng.randint(1, 30)))
        retrievers = [{i: rng.uniform(-1, 1) for i in rng.sample(items, rng.randint(0, len(items)))}
                      for _ in range(rng.randint(1, 3))]
        raw = [rng.random() for _ in retrievers]
        weights = [w / sum(raw) for w in raw]
        floors = [-1.0] * len(retrievers)
        method = rng.choice(list(Normalisation))
        expected = {}
        for scores, weight in zip(retrievers, weights):
            if not scores:
                continue
            bottom = min(scores.values()) if method is Normalisation.MIN_MAX else -1.0
            top = max(scores.values())
            for item, score in scores.items():
                share = (score - bottom) / (top - bottom) if top > bottom else 0.0
                expected[item] = expected.get(item, 0.0) + weight * share
        fused = convex_combination(retrievers, weights, normalisation=method, floors=floors)
        assert dict(fused) == pytest.approx(expected)
        assert all(0.0 <= score <= 1.0 + 1e-12 for _, score in fused)
        order = [i for i, _ in fused]
        assert all((-dict(fused)[a], a) <= (-dict(fused)[b], b) for a, b in zip(order, order[1:]))


def test_convex_combination_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        convex_combination([{"a": 1.0}, {"a": 1.0}], [0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        convex_combination([{"a": 1.0}, {"a": 1.0}], [1.5, -0.5])
    with pytest.raises(ValueError, match="weights"):
        convex_combination([{"a": 1.0}], [0.5, 0.5])
    with pytest.raises(ValueError, match="floors"):
        convex_combination([{"a": 1.0}], [1.0], floors=[0.0, 0.0])
