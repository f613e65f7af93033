"""Reciprocal rank fusion of several rankings of the same items."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)

DEFAULT_RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Item]],
    *,
    k: int = DEFAULT_RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[Item, float]]:
    """Fuse rankings by reciprocal rank (Cormack, Clarke and Büttcher, 2009).

    An item at 1-based rank ``r`` in ranking ``i`` earns ``weights[i] / (k + r)``;
    an item absent from a ranking earns nothing from it.

    Args:
        rankings: each a sequence of distinct items, best first.
        k: the damping constant; larger values flatten the advantage of the top ranks.
        weights: one weight per ranking (default 1 each).

    Returns:
        ``(item, score)`` pairs, highest score first; equal scores are ordered by the item itself.

    Raises:
        ValueError: if ``k`` is negative or the number of weights differs from the number of rankings.
    """
    if k < 0:
        raise ValueError(f"k must be at least 0, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    scores: dict[Item, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def best_possible_score(weights: Sequence[float], k: int = DEFAULT_RRF_K) -> float:
    """The score of an item ranked first everywhere: divide by it to put fused scores in [0, 1]."""
    return sum(weights) / (k + 1)
