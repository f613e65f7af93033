"""Grouping unmet needs by meaning: hand-made vectors with known answers, and the hashing embedder."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from tests.fakes import HashingEmbedder
from index.text import shorten
from web.insights.clusters import NeedGroup, group_needs
from support_requests.demand import UnmetNeed, UnmetReason

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def need(i: int, text: str, *, reason: str = "weak", entry: str | None = None, score: float | None = None,
         hours: float | None = None) -> UnmetNeed:
    return UnmetNeed(id=i, created_at=T0 + dt.timedelta(hours=i if hours is None else hours), need=text,
                     reason=UnmetReason(reason), best_score=score, best_entry_id=entry)


def unit(*values: float) -> list[float]:
    vector = np.array(values, dtype=np.float32)
    return list(vector / np.linalg.norm(vector))


def ids(groups: list[NeedGroup]) -> list[list[int]]:
    return [[n.id for n in g.needs] for g in groups]


def test_hand_made_vectors_group_as_expected() -> None:
    needs = [need(1, "a1"), need(2, "b1"), need(3, "a2"), need(4, "a3"), need(5, "b2"), need(6, "c1")]
    vectors = np.array([unit(1, 0.1, 0), unit(0, 1, 0.1), unit(1, 0, 0.1), unit(1, 0.05, 0.05),
                        unit(0.1, 1, 0), unit(0, 0, 1)])
    groups = group_needs(needs, vectors, max_distance=0.2)
    assert [sorted(g) for g in ids(groups)] == [[1, 3, 4], [2, 5], [6]]
    assert [g.count for g in groups] == [3, 2, 1]
    assert groups[0].label == "a3"  # the most central of the three
    assert groups[2].cohesion == 1.0 and 0.9 < groups[0].cohesion <= 1.0


def test_a_distance_of_zero_keeps_only_identical_needs_together() -> None:
    needs = [need(1, "x"), need(2, "x again"), need(3, "y")]
    vectors = np.array([unit(1, 0), unit(1, 0), unit(0.9, 0.1)])
    assert sorted(sorted(g) for g in ids(group_needs(needs, vectors, max_distance=0.0))) == [[1, 2], [3]]
    [everything] = ids(group_needs(needs, vectors, max_distance=2.0))
    assert sorted(everything) == [1, 2, 3]


def test_similar_needs_group_and_different_ones_do_not_with_the_hashing_embedder() -> None:
    texts = ["zebrafish toxicity screening", "zebrafish screening for toxicity", "toxicity screening in zebrafish",
             "liver organoid culture", "organoid culture of liver cells",
             "cleanroom space to rent"]
    needs = [need(i, t) for i, t in enumerate(texts, start=1)]
    groups = group_needs(needs, HashingEmbedder().encode_queries(texts))
    assert [sorted(g) for g in ids(groups)] == [[1, 2, 3], [4, 5], [6]]


def test_the_order_of_the_input_does_not_matter() -> None:
    texts = ["zebrafish toxicity screening", "zebrafish screening for toxicity", "liver organoid culture",
             "organoid culture of liver cells", "cleanroom space to rent", "mass spectrometry imaging",
             "imaging mass spectrometry of tissue"]
    needs = [need(i, t) for i, t in enumerate(texts, start=1)]
    vectors = HashingEmbedder().encode_queries(texts)
    expected = group_needs(needs, vectors)
    order = list(range(len(needs)))
    for seed in range(5):
        random.Random(seed).shuffle(order)
        shuffled = group_needs([needs[i] for i in order], vectors[order])
        assert shuffled == expected


def test_groups_are_ordered_by_size_then_recency_then_label() -> None:
    needs = [need(1, "beta", hours=1), need(2, "alpha", hours=1), need(3, "gamma", hours=5),
             need(4, "delta", hours=2), need(5, "delta too", hours=3)]
    vectors = np.array([unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0), unit(0, 0, 0, 1), unit(0, 0, 0, 1)])
    groups = group_needs(needs, vectors)
    assert [g.label for g in groups] == ["delta", "gamma", "alpha", "beta"]


def test_a_group_summarises_its_members() -> None:
    needs = [need(1, "cell sorting of bacteria", entry="flow-flemingsberg", score=0.2, hours=0),
             need(2, "cell sorting of bacteria", reason="none_fit", entry="flow-biomedicum", hours=30),
             need(3, "bacterial cell sorting", entry="flow-biomedicum", score=0.25, hours=5),
             need(4, "sorting bacteria cells", reason="none_fit", entry="flow-flemingsberg", score=0.22, hours=10),
             need(5, "bacteria sorting by FACS", hours=20)]
    vectors = np.array([unit(1, 0.1), unit(1, 0.1), unit(1, 0.12), unit(1, 0.08), unit(1, 0.2)])
    [group] = group_needs(needs, vectors)
    assert (group.count, group.weak, group.none_fit) == (5, 3, 2)
    assert (group.first_seen, group.last_seen) == (T0, T0 + dt.timedelta(hours=30))
    # two votes each: the higher best similarity decides
    assert group.closest_entry_id == "flow-biomedicum"
    assert len(group.examples) == 3 and len(set(group.examples)) == 3
    assert group.label == group.examples[0] == group.needs[0].need


def test_no_entry_recorded_means_no_closest_entry() -> None:
    [group] = group_needs([need(1, "x")], np.array([unit(1, 0)]))
    assert group.closest_entry_id is None and group.label == "x" and group.examples == ("x",)


def test_a_zero_vector_is_a_group_of_its_own() -> None:
    needs = [need(1, "a"), need(2, "b"), need(3, "???")]
    groups = group_needs(needs, np.array([unit(1, 0), unit(1, 0.01), [0.0, 0.0]]))
    assert sorted(sorted(g) for g in ids(groups)) == [[1, 2], [3]]


def test_nothing_to_group() -> None:
    assert group_needs([], np.zeros((0, 8), dtype=np.float32)) == []


@pytest.mark.parametrize(("vectors", "distance", "message"), [
    (np.zeros((3, 4)), 0.5, "shape"),
    (np.array([[np.nan, 1.0], [1.0, 0.0]]), 0.5, "finite"),
    (np.array([[1.0, 0.0], [0.0, 1.0]]), 2.5, "max_distance"),
])
def test_bad_input_is_refused(vectors, distance, message) -> None:
    with pytest.raises(ValueError, match=message):
        group_needs([need(1, "a"), need(2, "b")], vectors, max_distance=distance)


def test_a_long_label_is_shortened_at_a_word() -> None:
    [group] = group_needs([need(1, "organoid " * 40)], np.array([unit(1, 0)]))
    assert len(group.label) <= 120 and group.label.endswith("organoid…")
    assert shorten("short text", 20) == "short text"
    assert shorten("one two three four", 10) == "one two…"
