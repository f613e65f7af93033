from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexCorruptError
from index.keyword import KeywordIndex

DOCS = [["cryo", "em", "protein"], ["flow", "cytometry", "cell"], ["cell", "therapy", "gmp", "cell"], []]


def test_ranks_documents_sharing_query_terms() -> None:
    index = KeywordIndex.build(DOCS)
    positions, scores = index.search(["cell"], 10)
    assert positions.tolist() == [2, 1]  # the document that says "cell" twice first
    assert scores[0] > scores[1] > 0


def test_unknown_and_empty_queries_return_nothing() -> None:
    index = KeywordIndex.build(DOCS)
    assert index.search(["unheard"], 5)[0].size == 0
    assert index.search([], 5)[0].size == 0
    assert index.scores([]).shape == (4,)


def test_mask_excludes_documents() -> None:
    index = KeywordIndex.build(DOCS)
    mask = np.array([True, True, False, True])
    assert index.search(["cell"], 10, mask)[0].tolist() == [1]


def test_ties_are_broken_by_position_and_k_cuts() -> None:
    index = KeywordIndex.build([["a"], ["a"], ["a"]])
    assert index.search(["a"], 2)[0].tolist() == [0, 1]


def test_save_load_and_size_check(tmp_path: Path) -> None:
    index = KeywordIndex.build(DOCS)
    index.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path, size=4)
    assert loaded.search(["gmp"], 3)[0].tolist() == [2]
    with pytest.raises(IndexCorruptError, match="manifest says 5"):
        KeywordIndex.load(tmp_path, size=5)
    with pytest.raises(IndexCorruptError):
        KeywordIndex.load(tmp_path / "missing", size=4)
