from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index.engine import SearchEngine, SearchMode
from navigator.evaluation import (EvaluationError, evaluate, first_accepted_rank, format_table, load_queries,
                                  score_ranks)


def test_first_accepted_rank() -> None:
    assert first_accepted_rank(["a", "b", "c"], ["c", "b"]) == 2
    assert first_accepted_rank(["a"], ["z"]) is None


def test_scores_by_hand() -> None:
    scores = score_ranks([1, 2, None, 4, 11])
    assert scores.count == 5
    assert scores.recall == {1: 0.2, 3: 0.4, 10: 0.6}
    assert scores.mrr == pytest.approx((1 + 1 / 2 + 1 / 4) / 5)


def write(tmp_path: Path, queries) -> Path:
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"queries": queries}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ([{"id": "q1", "text": "", "expected": ["a"]}], "'q1', field 'text'"),
        ([{"id": "q1", "text": "x", "expected": []}], "'q1', field 'expected'"),
        ([{"id": "q1", "text": "x", "expected": ["a"], "split": "train"}], "'q1', field 'split'"),
        ([{"id": "q1", "text": "x", "expected": ["a"]}, {"id": "q1", "text": "y", "expected": ["a"]}], "twice"),
        ([{"id": "q1", "text": "x", "expected": ["ghost"]}], "unknown entry ids"),
    ],
)
def test_bad_query_files_are_named(tmp_path: Path, queries, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        load_queries(write(tmp_path, queries), known_ids=["a"])


def test_evaluate_per_split_and_mode(tmp_path: Path, sample_engine: SearchEngine) -> None:
    path = write(tmp_path, [
        {"id": "q1", "text": "GMP manufacturing of viral vectors", "expected": ["vecura-gmp"], "split": "dev"},
        {"id": "q2", "text": "loans for a small company", "expected": ["almi-loans"], "split": "test"},
        {"id": "q3", "text": "zzz qqq", "expected": ["cryo-em-solna"], "split": "test"},
    ])
    queries = load_queries(path, known_ids=[e.id for e in sample_engine.entries()])
    results = {mode: evaluate(sample_engine, queries, mode) for mode in SearchMode}
    hybrid = results[SearchMode.HYBRID]
    assert hybrid["dev"].recall[1] == 1.0 and hybrid["dev"].count == 1
    assert hybrid["test"].count == 2 and hybrid["test"].recall[1] == 0.5
    table = format_table(results)
    assert "| test | keyword | 2 |" in table and "| dev | hybrid | 1 | 1.000 |" in table
