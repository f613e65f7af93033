"""Grouping unmet needs by meaning: average-linkage clustering of their embeddings on cosine distance.

Two needs land in one group when the average cosine distance between the groups they belong to is at most
``max_distance`` (similarity at least ``1 - max_distance``). The method is deterministic: needs are put in
a fixed order (oldest first, ties by id) before clustering, and groups are ordered by size, then the
latest need, then label.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from index.text import shorten
from support_requests.demand import UnmetNeed, UnmetReason

DEFAULT_MAX_DISTANCE = 0.5
"""Average cosine distance within which needs are one group (average similarity at least 0.5). Read off
all-MiniLM-L6-v2 on sample needs: rewordings of one need ("zebrafish larvae screening", "vi behöver zebrafisk
för toxicitetstester") are at similarity 0.45-0.8, needs for different infrastructure mostly under 0.35."""

MAX_LABEL_CHARS = 120
EXAMPLES_PER_GROUP = 3


@dataclass(frozen=True)
class NeedGroup:
    """Needs that say much the same thing.

    Attributes:
        label: the group's most central need (highest mean similarity to the others), shortened.
        needs: the members, most central first (ties: older first).
        examples: up to three distinct member texts, most central first.
        first_seen, last_seen: when the oldest and the newest member was noted.
        weak, none_fit: how many members were noted for each reason.
        closest_entry_id: the catalogue entry most often closest to the members when they were noted
            (ties: the higher best similarity, then the id); ``None`` when none was recorded.
        cohesion: the mean cosine similarity of the members to the group's centre, in [-1, 1]; 1 for one need.
    """

    label: str
    needs: tuple[UnmetNeed, ...]
    examples: tuple[str, ...]
    first_seen: dt.datetime
    last_seen: dt.datetime
    weak: int
    none_fit: int
    closest_entry_id: str | None
    cohesion: float

    @property
    def count(self) -> int:
        """How many needs the group holds."""
        return len(self.needs)


def group_needs(needs: Sequence[UnmetNeed], vectors: np.ndarray, *,
                max_distance: float = DEFAULT_MAX_DISTANCE) -> list[NeedGroup]:
    """Group ``needs`` by the similarity of their ``vectors``.

    Args:
        needs: the needs, in any order.
        vectors: one embedding per need, in the same order, shape ``(len(needs), dimension)``; rows are
            normalised here (an all-zero row is unlike everything).
        max_distance: the largest average cosine distance inside a group, between 0 and 2.

    Returns:
        The groups, largest first (ties: the most recent last need, then the label).

    Raises:
        ValueError: when the vectors do not match the needs or are not finite, or the distance is out of range.
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(needs):
        raise ValueError(f"vectors must have shape ({len(needs)}, dimension), got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors must be finite numbers")
    if not 0.0 <= max_distance <= 2.0:
        raise ValueError(f"max_distance must be between 0 and 2, got {max_distance}")
    if not needs:
        return []
    order = sorted(range(len(needs)), key=lambda i: (needs[i].created_at, needs[i].id))
    ordered = [needs[i] for i in order]
    matrix = _normalised(matrix[order])
    labels = _cluster(matrix, max_distance)
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members.setdefault(int(label), []).append(position)
    groups = [_group([ordered[i] for i in rows], matrix[rows]) for rows in members.values()]
    groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.label, g.needs[0].id))
    return groups


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _cluster(matrix: np.ndarray, max_distance: float) -> np.ndarray:
    """A cluster number per row (consecutive rows may share one)."""
    if len(matrix) == 1:
        return np.ones(1, dtype=int)
    distances = np.clip(1.0 - matrix @ matrix.T, 0.0, 2.0)
    distances = (distances + distances.T) / 2  # exactly symmetric despite rounding
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    return fcluster(tree, t=max_distance, criterion="distance")


def _group(needs: list[UnmetNeed], vectors: np.ndarray) -> NeedGroup:
    similarity = vectors @ vectors.T
    if len(needs) > 1:
        centrality = (similarity.sum(axis=1) - np.diag(similarity)) / (len(needs) - 1)
    else:
        centrality = np.ones(1)
    # Most central first; among equals the older need (needs arrive oldest first, and sorting is stable).
    ranked = sorted(range(len(needs)), key=lambda i: -round(float(centrality[i]), 9))
    members = tuple(needs[i] for i in ranked)
    centre = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centre))
    cohesion = float(np.mean(vectors @ (centre / norm))) if norm > 0 and len(needs) > 1 else 1.0
    examples: list[str] = []
    for need in members:
        if need.need not in examples:
            examples.append(need.need)
        if len(examples) == EXAMPLES_PER_GROUP:
            break
    reasons = Counter(n.reason for n in needs)
    return NeedGroup(label=shorten(members[0].need, MAX_LABEL_CHARS), needs=members, examples=tuple(examples),
                     first_seen=min(n.created_at for n in needs), last_seen=max(n.created_at for n in needs),
                     weak=reasons[UnmetReason.WEAK], none_fit=reasons[UnmetReason.NONE_FIT],
                     closest_entry_id=_closest_entry(needs), cohesion=round(cohesion, 4))


def _closest_entry(needs: Sequence[UnmetNeed]) -> str | None:
    votes: dict[str, tuple[int, float]] = {}
    for need in needs:
        if need.best_entry_id:
            count, best = votes.get(need.best_entry_id, (0, float("-inf")))
            votes[need.best_entry_id] = (count + 1, max(best, need.best_score if need.best_score is not None
                                                        else float("-inf")))
    if not votes:
        return None
    return min(votes, key=lambda entry_id: (-votes[entry_id][0], -votes[entry_id][1], entry_id))
