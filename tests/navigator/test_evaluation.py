from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index.engine import SearchEngine, SearchMode
from navigator import cli, evaluation, runtime
from navigator.evaluation import (EvaluationError, MultipartScores, Scores, Thresholds, align, bootstrap_margin, check,
                                  evaluate, evaluate_multipart, evaluate_single_needs_split, first_accepted_rank,
                                  format_bootstrap, format_multipart_table, format_single_split_table, format_table,
                                  interleave, judge_message, load_messages, load_queries, score_ranks)
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue


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


# The quality gate -------------------------------------------------------------------------------------------


def scores(recall_at_3: float, mrr: float) -> Scores:
    return Scores(100, {1: 0.0, 3: recall_at_3, 10: 1.0}, mrr)


GATE = Thresholds(min_recall_at_3=0.85, min_mrr=0.75, min_recall_at_3_margin=0.03, min_mrr_margin=0.03)


def test_check_passes_when_every_threshold_is_met() -> None:
    results = {SearchMode.HYBRID: {"test": scores(0.92, 0.85)}, SearchMode.DENSE: {"test": scores(0.80, 0.70)},
               SearchMode.KEYWORD: {"test": scores(0.89, 0.82)}}
    assert check(results, GATE) == []


def test_check_names_each_missed_threshold() -> None:
    # Hybrid clears its floors but leads keyword by only 0.01 of Recall@3 and 0.02 of MRR.
    results = {SearchMode.HYBRID: {"test": scores(0.90, 0.84)}, SearchMode.DENSE: {"test": scores(0.80, 0.70)},
               SearchMode.KEYWORD: {"test": scores(0.89, 0.82)}}
    failures = check(results, GATE)
    assert len(failures) == 2
    assert "Recall@3 minus the better single retriever's on the test split is 0.010" in failures[0]
    assert "MRR minus the better single retriever's on the test split is 0.020, below the threshold 0.030" in failures[1]
    low = {SearchMode.HYBRID: {"test": scores(0.80, 0.70)}, SearchMode.DENSE: {"test": scores(0.1, 0.1)},
           SearchMode.KEYWORD: {"test": scores(0.1, 0.1)}}
    assert [f.split(" on ")[0] for f in check(low, GATE)] == ["hybrid Recall@3", "hybrid MRR"]


def test_check_needs_every_mode_on_the_split() -> None:
    with pytest.raises(EvaluationError, match="test split"):
        check({SearchMode.HYBRID: {"test": scores(1, 1)}, SearchMode.DENSE: {"dev": scores(1, 1)}}, GATE)


def test_the_shipped_thresholds_are_the_documented_ones() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    t = evaluation.THRESHOLDS
    for value in (t.min_recall_at_3, t.min_mrr, t.min_recall_at_3_margin, t.min_mrr_margin):
        assert f"{value:.3f}" in documented


def test_bootstrap_margin_by_hand() -> None:
    # Hybrid finds all four at rank 1; dense finds two at rank 1; keyword finds all four at rank 2.
    hybrid, dense, keyword = [1, 1, 1, 1], [1, 1, None, None], [2, 2, 2, 2]
    intervals = bootstrap_margin(hybrid, [dense, keyword], resamples=500, seed=1)
    # Recall@3: keyword also finds all, so the margin is 0 in every resample.
    assert intervals["recall@3"].observed == 0.0
    assert intervals["recall@3"].low == intervals["recall@3"].high == 0.0
    # MRR: hybrid 1.0; dense 0.5 on all four, keyword 0.5: margin 0.5 observed. In a resample dense scores the share
    # of its two found queries drawn, so the better single is at least 0.5 and the margin at most 0.5.
    assert intervals["mrr"].observed == pytest.approx(0.5)
    assert intervals["mrr"].high == pytest.approx(0.5)
    assert 0.0 <= intervals["mrr"].low < 0.5
    assert bootstrap_margin(hybrid, [dense, keyword], resamples=500, seed=1) == intervals  # a fixed seed repeats
    assert "mrr: +0.500 [" in format_bootstrap(intervals, 4, 500, 1)


def test_bootstrap_margin_refuses_mismatched_lists() -> None:
    with pytest.raises(ValueError, match="same non-empty"):
        bootstrap_margin([1, 2], [[1]])
    with pytest.raises(ValueError, match="same non-empty"):
        bootstrap_margin([], [[]])
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_margin([1], [[1]], resamples=0)


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    knowledge = write_catalogue(tmp_path / "knowledge", SAMPLE)
    monkeypatch.setenv("NAVIGATOR_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("NAVIGATOR_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NAVIGATOR_EMBEDDING_MODEL", HashingEmbedder().name)
    monkeypatch.setattr(runtime, "load_embedder", lambda settings: HashingEmbedder())
    queries = tmp_path / "q.yaml"
    queries.write_text("queries:\n"
                       "  - {id: a, text: GMP manufacturing of viral vectors, expected: [vecura-gmp], split: test}\n"
                       "  - {id: b, text: loans for a small company, expected: [almi-loans], split: dev}\n")
    return queries


def test_eval_check_exits_non_zero_when_a_threshold_is_missed(configured: Path, capsys,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # On the sample every mode finds the need first, so hybrid has no margin over the single retrievers.
    monkeypatch.setattr(evaluation, "THRESHOLDS", Thresholds(0.5, 0.5, 0.0, 0.0))
    assert cli.main(["eval", "--queries", str(configured), "--check"]) == 0
    assert "Quality gate (docs/benchmarks.md): passed" in capsys.readouterr().out
    monkeypatch.setattr(evaluation, "THRESHOLDS", Thresholds(0.5, 0.5, 0.03, 0.0))
    assert cli.main(["eval", "--queries", str(configured), "--check"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "Recall@3 minus the better single retriever's on the test split is 0.000" in out


def test_eval_options_choose_split_fusion_and_bootstrap(configured: Path, capsys) -> None:
    code = cli.main(["eval", "--queries", str(configured), "--split", "dev", "--fusion", "rrf"])
    out = capsys.readouterr().out
    assert code == 0 and "fusion rrf" in out and "| dev | hybrid | 1 |" in out and "| test |" not in out
    code = cli.main(["eval", "--queries", str(configured), "--fusion", "convex", "--dense-share", "0.3",
                     "--normalisation", "min-max", "--bootstrap", "50"])
    out = capsys.readouterr().out
    assert code == 0 and "fusion convex (alpha 0.3, min-max)" in out
    assert "1 queries, 50 bootstrap resamples" in out and "recall@3: +0.000 [+0.000, +0.000]" in out
    assert cli.main(["eval", "--queries", str(configured), "--split", "dev", "--check"]) == 1
    assert "--check measures the test split" in capsys.readouterr().err
    assert cli.main(["eval", "--queries", str(configured), "--dense-share", "1.5"]) == 1
    assert "dense_share must be between 0 and 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Vi behöver ett lån till vårt startup.", "sv"),
        ("labbplats för startup nära KI Solna", "sv"),
        ("lån till vårt bolag", "sv"),
        ("Hur söker ett litet företag EU-pengar?", "sv"),
        ("kliniska prövningar och hjälp med etik", "sv"),
        ("untargeted metabolomics GC-MS on plasma, Umeå", "en"),
        ("ecotoxicology test of our product on aquatic organisms with Södertörn University", "en"),
        ("GMP manufacturing of viral vectors", "en"),
    ],
)
def test_need_language_splits_swedish_from_english(text: str, language: str) -> None:
    assert evaluation.need_language(text) == language


def test_eval_language_measures_only_needs_in_that_language(configured: Path, capsys) -> None:
    with configured.open("a", encoding="utf-8") as queries:
        queries.write("  - {id: c, text: lån till vårt lilla bolag, expected: [almi-loans], split: dev}\n")
    assert cli.main(["eval", "--queries", str(configured), "--split", "dev", "--language", "sv"]) == 0
    out = capsys.readouterr().out
    assert "1 labelled queries in sv" in out and "| dev | hybrid | 1 |" in out
    assert cli.main(["eval", "--queries", str(configured), "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "2 labelled queries in en" in out and "| test | hybrid | 1 |" in out
    assert cli.main(["eval", "--queries", str(configured), "--language", "en", "--check"]) == 1
    assert "--check measures the test split" in capsys.readouterr().err
