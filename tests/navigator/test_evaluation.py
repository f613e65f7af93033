from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index.engine import SearchEngine, SearchMode
from navigator.evaluation import (EvaluationError, MultipartScores, align, evaluate, evaluate_multipart,
                                  evaluate_single_needs_split, first_accepted_rank, format_multipart_table,
                                  format_single_split_table, format_table, interleave, judge_message, load_messages,
                                  load_queries, score_ranks)


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


def write_messages(tmp_path: Path, needs) -> Path:
    path = tmp_path / "multipart.yaml"
    path.write_text(yaml.safe_dump({"needs": needs}), encoding="utf-8")
    return path


TWO_NEEDS = {"id": "m1", "text": "GMP manufacturing of viral vectors, and later a loan for our small company",
             "parts": [{"text": "GMP manufacturing of viral vectors", "expected": ["vecura-gmp"]},
                       {"text": "a loan for our small company", "expected": ["almi-loans"]}],
             "split": "dev"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": ""}, "'m1', field 'text'"),
        ({"parts": [{"text": "GMP", "expected": ["vecura-gmp"]}]}, "'m1', field 'parts'"),
        ({"parts": [{"text": "not in it", "expected": ["a"]}, {"text": "GMP", "expected": ["a"]}]},
         "part 1, field 'text'"),
        ({"parts": [{"text": "GMP", "expected": ["a"]}, {"text": "loan", "expected": []}]},
         "part 2, field 'expected'"),
        ({"parts": [{"text": "GMP", "expected": ["ghost"]}, {"text": "loan", "expected": ["a"]}]},
         "unknown entry ids"),
        ({"split": "train"}, "'m1', field 'split'"),
    ],
)
def test_bad_message_files_are_named(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        load_messages(write_messages(tmp_path, [{**TWO_NEEDS, **change}]), known_ids=["a"])


def test_a_message_id_used_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="twice"):
        load_messages(write_messages(tmp_path, [TWO_NEEDS, TWO_NEEDS]))


def test_the_shipped_messages_load_and_follow_the_split_rule() -> None:
    from index.catalogue import load_catalogue

    root = Path(__file__).resolve().parents[2]
    messages = load_messages(root / "tests/eval/multipart.yaml",
                             known_ids=[e.id for e in load_catalogue(root / "knowledge").entries])
    assert len(messages) >= 30
    for number, message in enumerate(messages, start=1):
        assert message.split == ("test" if number % 5 == 0 else "dev"), message.id


def test_align_pairs_each_labelled_part_with_the_part_sharing_most_words() -> None:
    assert align(["GMP production", "mouse model"], ["We need a mouse model", "we'll need GMP production"]) == [1, 0]
    assert align(["GMP production", "mouse model"], ["the whole message"]) == [0, 0]
    assert align(["nothing shared"], ["a", "b"]) == [0]


def test_interleave_takes_the_first_hits_first(sample_engine: SearchEngine) -> None:
    gmp = sample_engine.search("GMP manufacturing of viral vectors", top=2)
    loans = sample_engine.search("loans for a small company", top=2)
    ids = interleave([gmp, loans])
    assert ids[:2] == [gmp[0].entry.id, loans[0].entry.id]
    assert len(ids) == len(set(ids)) <= 4
    assert interleave([]) == []


def test_split_search_serves_both_needs_where_the_plain_search_may_not(tmp_path: Path,
                                                                      sample_engine: SearchEngine) -> None:
    one_need = {"id": "m2", "text": "flow cytometry in Flemingsberg, and also cell sorting by flow cytometry",
                "parts": [{"text": "flow cytometry in Flemingsberg", "expected": ["flow-flemingsberg"]},
                          {"text": "cell sorting by flow cytometry", "expected": ["cryo-em-solna"]}],
                "split": "test"}
    messages = load_messages(write_messages(tmp_path, [TWO_NEEDS, one_need]))
    verdict = judge_message(sample_engine, messages[0], k=1)
    assert verdict == {"parts_found": True, "before": False, "before_as_many": True, "after": True}
    scores = evaluate_multipart(sample_engine, messages, k=1)
    assert scores["dev"] == MultipartScores(1, 1.0, 0.0, 1.0, 1.0)
    assert scores["test"].count == 1 and scores["test"].parts_found == 0.0 and scores["test"].after == 0.0
    table = format_multipart_table(scores, k=1)
    assert "| dev | 1 | 1.000 | 0.000 | 1.000 | 1.000 |" in table and "| test | 1 | 0.000 |" in table


def test_single_needs_through_the_split_search_keep_their_scores(tmp_path: Path, sample_engine: SearchEngine) -> None:
    path = write(tmp_path, [
        {"id": "q1", "text": "GMP manufacturing of viral vectors", "expected": ["vecura-gmp"], "split": "dev"},
        {"id": "q2", "text": "loans for a small company; also GMP manufacturing", "expected": ["almi-loans"],
         "split": "test"},
    ])
    queries = load_queries(path)
    results = evaluate_single_needs_split(sample_engine, queries)
    assert results["dev"][0] == 0 and results["dev"][1] == evaluate(sample_engine, queries[:1], SearchMode.HYBRID)["dev"]
    assert results["test"][0] == 1 and results["test"][1].recall[1] == 1.0
    assert "| test | 1 | 1 | 1.000 |" in format_single_split_table(results)
