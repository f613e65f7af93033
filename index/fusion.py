"""Fusing several retrievers' results for one query: reciprocal rank fusion, or a convex combination of
normalised scores."""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)

DEFAULT_RRF_K = 60


class FusionMethod(str, enum.Enum):
    """How the engine fuses the dense and keyword retrievers."""

    RRF = "rrf"  # reciprocal rank fusion: only ranks count
    CONVEX = "convex"  # weighted sum of normalised scores: how much better the best match is counts too


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


# Convex combination of normalised scores ---------------------------------------------------------------------


class Normalisation(str, enum.Enum):
    """How a retriever's scores for one query are put in [0, 1] before they are combined.

    ``MIN_MAX``: ``(s - lowest) / (highest - lowest)`` over the scored items, so the worst item scores 0.
    ``THEORETICAL_MIN``: ``(s - floor) / (highest - floor)``, with ``floor`` the lowest score the retriever can
    give at all (0 for BM25, -1 for cosine similarity). The bottom no longer depends on which items happen to be
    scored, so a weak best match stays visibly weak next to the other retriever's strong one (Bruch, Gai and
    Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023, section 4).
    """

    MIN_MAX = "min-max"
    THEORETICAL_MIN = "theoretical-min"


def normalise(scores: Mapping[Item, float], method: Normalisation, floor: float | None = None) -> dict[Item, float]:
    """One query's scores from one retriever put in [0, 1]; the best item gets 1.

    Args:
        scores: item to score, higher is better.
        method: see :class:`Normalisation`.
        floor: the lowest score the retriever can give; required by ``THEORETICAL_MIN``, which clips scores
            below it to 0.

    Returns:
        Item to normalised score. All 0 when every score is equal to the bottom of the range (nothing to prefer,
        for example a BM25 query that shares no word with any item).

    Raises:
        ValueError: ``THEORETICAL_MIN`` without a floor.
    """
    if not scores:
        return {}
    if method is Normalisation.MIN_MAX:
        bottom = min(scores.values())
    elif floor is None:
        raise ValueError("theoretical-min normalisation needs the retriever's lowest possible score (floor)")
    else:
        bottom = floor
    span = max(scores.values()) - bottom
    if span <= 0:
        return {item: 0.0 for item in scores}
    return {item: max(0.0, (score - bottom) / span) for item, score in scores.items()}


def convex_combination(
    scores: Sequence[Mapping[Item, float]],
    weights: Sequence[float],
    *,
    normalisation: Normalisation = Normalisation.THEORETICAL_MIN,
    floors: Sequence[float | None] | None = None,
) -> list[tuple[Item, float]]:
    """Fuse retrievers by a weighted sum of their normalised scores (Bruch, Gai and Ingber, 2023).

    With two retrievers and weights ``(alpha, 1 - alpha)`` this is their
    ``alpha * norm(semantic) + (1 - alpha) * norm(lexical)``. Each retriever's scores are normalised on their own
    (see :func:`normalise`); an item one retriever did not score gets 0 from it, as if it scored that
    retriever's bottom. Pass every retriever's score for every candidate when it can be computed: the fusion is
    then exact rather than a guess about missing scores.

    Args:
        scores: one mapping of item to raw score per retriever, higher is better.
        weights: one non-negative weight per retriever, summing to 1.
        normalisation: see :class:`Normalisation`.
        floors: one lowest-possible score per retriever, required for ``THEORETICAL_MIN``.

    Returns:
        ``(item, score)`` pairs for every item scored by any retriever, highest first, scores in [0, 1] (1: the
        best item of every retriever); equal scores are ordered by the item itself.

    Raises:
        ValueError: the weights or floors do not match the retrievers, a weight is negative, or the weights do
            not sum to 1.
    """
    if len(weights) != len(scores):
        raise ValueError(f"got {len(weights)} weights for {len(scores)} retrievers")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-9:
        raise ValueError(f"convex weights must be non-negative and sum to 1, got {list(weights)}")
    if floors is None:
        floors = [None] * len(scores)
    if len(floors) != len(scores):
        raise ValueError(f"got {len(floors)} floors for {len(scores)} retrievers")
    fused: dict[Item, float] = {}
    for retriever_scores, weight, floor in zip(scores, weights, floors):
        for item, value in normalise(retriever_scores, normalisation, floor).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
