"""Measuring matching quality on labelled company needs.

A query counts as found at ``k`` when at least one of its accepted entries is
among the first ``k`` hits: the ``expected`` ids are the answers an advisor
would accept, and any one of them serves the company. Recall@k is the share of
queries found at ``k``; MRR is the mean of 1/rank of the first accepted hit
(0 when none is in the top 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from index.engine import SearchEngine, SearchMode

CUTOFFS = (1, 3, 10)
SPLITS = ("dev", "test")


class EvaluationError(ValueError):
    """The labelled query file is unusable; the message names the query and field."""


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    text: str
    expected: tuple[str, ...]
    split: str


@dataclass(frozen=True)
class Scores:
    """Recall at each cutoff and the mean reciprocal rank over ``count`` queries, all in [0, 1]."""

    count: int
    recall: dict[int, float]
    mrr: float


def load_queries(path: Path, known_ids: Iterable[str] | None = None) -> list[LabelledQuery]:
    """Read a labelled query file (``queries:`` with ``id``, ``text``, ``expected``, ``split``).

    Raises:
        EvaluationError: on a malformed file, a duplicate query id, or an expected id not in ``known_ids``.
    """
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("queries"), list):
        raise EvaluationError(f"{path}: expected a list under the key 'queries'")
    known = set(known_ids) if known_ids is not None else None
    queries, seen = [], set()
    for position, item in enumerate(document["queries"], start=1):
        if not isinstance(item, dict):
            raise EvaluationError(f"{path}: query #{position} is not a mapping")
        query_id = str(item.get("id") or f"#{position}")
        text, expected, split = item.get("text"), item.get("expected"), item.get("split", "dev")
        if not isinstance(text, str) or not text.strip():
            raise EvaluationError(f"{path}: query '{query_id}', field 'text': must be non-empty text")
        if not isinstance(expected, list) or not expected or not all(isinstance(e, str) for e in expected):
            raise EvaluationError(f"{path}: query '{query_id}', field 'expected': must be a list of entry ids")
        if split not in SPLITS:
            raise EvaluationError(f"{path}: query '{query_id}', field 'split': must be one of {', '.join(SPLITS)}")
        if query_id in seen:
            raise EvaluationError(f"{path}: query id '{query_id}' is used twice")
        unknown = [e for e in expected if known is not None and e not in known]
        if unknown:
            raise EvaluationError(f"{path}: query '{query_id}', field 'expected': unknown entry ids {unknown}")
        seen.add(query_id)
        queries.append(LabelledQuery(query_id, text, tuple(expected), split))
    return queries


def first_accepted_rank(ranked_ids: Sequence[str], expected: Iterable[str]) -> int | None:
    """The 1-based rank of the first accepted id in ``ranked_ids``, or ``None``."""
    accepted = set(expected)
    for rank, entry_id in enumerate(ranked_ids, start=1):
        if entry_id in accepted:
            return rank
    return None


def score_ranks(ranks: Sequence[int | None], cutoffs: Sequence[int] = CUTOFFS) -> Scores:
    """Recall@k and MRR from the first-accepted ranks of a set of queries."""
    count = len(ranks)
    if count == 0:
        return Scores(0, {k: 0.0 for k in cutoffs}, 0.0)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / count for k in cutoffs}
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= max(cutoffs)) / count
    return Scores(count, recall, mrr)


def evaluate(engine: SearchEngine, queries: Sequence[LabelledQuery], mode: SearchMode) -> dict[str, Scores]:
    """Scores of ``mode`` for each split present in ``queries``."""
    depth = max(CUTOFFS)
    ranks: dict[str, list[int | None]] = {}
    for query in queries:
        hits = engine.search(query.text, top=depth, mode=mode)
        ranks.setdefault(query.split, []).append(first_accepted_rank([h.entry.id for h in hits], query.expected))
    return {split: score_ranks(values) for split, values in ranks.items()}


def misses(engine: SearchEngine, queries: Sequence[LabelledQuery], mode: SearchMode, k: int = 3) -> list[tuple[LabelledQuery, list[str]]]:
    """The queries not found at ``k``, with the ids that were returned instead (for tuning on the dev split)."""
    result = []
    for query in queries:
        ids = [h.entry.id for h in engine.search(query.text, top=k, mode=mode)]
        if first_accepted_rank(ids, query.expected) is None:
            result.append((query, ids))
    return result


def format_table(results: dict[SearchMode, dict[str, Scores]]) -> str:
    """A Markdown table with one row per split and mode."""
    header = "| split | mode | queries | " + " | ".join(f"Recall@{k}" for k in CUTOFFS) + " | MRR |"
    lines = [header, "|" + "---|" * (5 + len(CUTOFFS) - 1)]
    for split in SPLITS:
        for mode, by_split in results.items():
            scores = by_split.get(split)
            if scores is None:
                continue
            cells = " | ".join(f"{scores.recall[k]:.3f}" for k in CUTOFFS)
            lines.append(f"| {split} | {mode.value} | {scores.count} | {cells} | {scores.mrr:.3f} |")
    return "\n".join(lines)
