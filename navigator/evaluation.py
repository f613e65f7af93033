"""Measuring matching quality on labelled company needs.

A query counts as found at ``k`` when at least one of its accepted entries is
among the first ``k`` hits: the ``expected`` ids are the answers an advisor
would accept, and any one of them serves the company. Recall@k is the share of
queries found at ``k``; MRR is the mean of 1/rank of the first accepted hit
(0 when none is in the top 10).

Messages that hold several needs (``tests/eval/multipart.yaml``) are measured by the share where every part
gets one of its accepted entries among the first 3 hits shown for it: before, the hits of a plain search of
the whole message, shared by all parts; after, the hits of
:meth:`~index.engine.SearchEngine.search_parts` for the part found in the message that the labelled part
overlaps most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import re

import numpy as np
import yaml

from index.engine import Hit, SearchEngine, SearchMode

CUTOFFS = (1, 3, 10)
SPLITS = ("dev", "test")
LANGUAGES = ("en", "sv")

# Short words that are common in Swedish and not English; two of them mark a need as Swedish.
_SWEDISH_WORDS = frozenset({
    "och", "att", "vi", "har", "för", "med", "som", "ett", "det", "kan", "var", "hur", "vill", "behöver", "till",
    "på", "av", "om", "vår", "våra", "vårt", "någon", "finns", "eller", "från", "ni", "oss", "är", "man", "efter",
    "hjälp", "inom", "mot",
})
_WORD = re.compile(r"[^\W\d_]+")


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


def need_language(text: str) -> str:
    """The language of a labelled need, for measuring English and Swedish needs apart.

    A need is Swedish (``"sv"``) when a lower-case word in it has å, ä or ö (so a place name such as Umeå or
    Södertörn in an English need does not count) or when it holds two common Swedish words (``vi``, ``och``,
    ``behöver``, ...); otherwise it is English (``"en"``). A rule to split the labelled needs by, not a detector for
    what people type.

    Returns:
        ``"sv"`` or ``"en"``.
    """
    words = _WORD.findall(text)
    if any(word.islower() and any(c in word for c in "åäö") for word in words):
        return "sv"
    return "sv" if sum(word.lower() in _SWEDISH_WORDS for word in words) >= 2 else "en"


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


def ranks_by_split(engine: SearchEngine, queries: Sequence[LabelledQuery], mode: SearchMode) -> dict[str, list[int | None]]:
    """For each split present in ``queries``, the first-accepted rank (in the top 10, else ``None``) of each of its
    queries, in file order."""
    depth = max(CUTOFFS)
    ranks: dict[str, list[int | None]] = {}
    for query in queries:
        hits = engine.search(query.text, top=depth, mode=mode)
        ranks.setdefault(query.split, []).append(first_accepted_rank([h.entry.id for h in hits], query.expected))
    return ranks


def evaluate(engine: SearchEngine, queries: Sequence[LabelledQuery], mode: SearchMode) -> dict[str, Scores]:
    """Scores of ``mode`` for each split present in ``queries``."""
    return {split: score_ranks(values) for split, values in ranks_by_split(engine, queries, mode).items()}


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


# The quality gate of `navigator eval --check` ---------------------------------------------------------------

SINGLE_MODES = (SearchMode.DENSE, SearchMode.KEYWORD)


@dataclass(frozen=True)
class Thresholds:
    """What hybrid search must reach on the test split of the shipped labelled needs.

    Documented in docs/benchmarks.md ("The quality gate"); ``navigator eval --check`` and ``make test`` fail when
    one is missed. Margins are hybrid minus the better of dense and keyword alone, for each measure separately.
    """

    min_recall_at_3: float
    min_mrr: float
    min_recall_at_3_margin: float
    min_mrr_margin: float


THRESHOLDS = Thresholds(min_recall_at_3=0.90, min_mrr=0.85, min_recall_at_3_margin=0.0, min_mrr_margin=0.0)


def check(results: dict[SearchMode, dict[str, Scores]], thresholds: Thresholds | None = None,
          split: str = "test") -> list[str]:
    """The thresholds (default :data:`THRESHOLDS`) that ``results`` (scores by mode and split, as from
    :func:`evaluate`) miss on ``split``.

    Returns:
        One sentence per missed threshold, naming the measure, the value and the threshold; empty when all are met.

    Raises:
        EvaluationError: ``results`` lack one of the three modes or the split.
    """
    thresholds = thresholds or THRESHOLDS
    try:
        hybrid = results[SearchMode.HYBRID][split]
        singles = [results[mode][split] for mode in SINGLE_MODES]
    except KeyError as exc:
        raise EvaluationError(f"the gate needs hybrid, dense and keyword scores on the {split} split, "
                              f"missing {exc}") from exc
    best_recall = max(s.recall[3] for s in singles)
    best_mrr = max(s.mrr for s in singles)
    measures = [
        ("hybrid Recall@3", hybrid.recall[3], thresholds.min_recall_at_3),
        ("hybrid MRR", hybrid.mrr, thresholds.min_mrr),
        ("hybrid Recall@3 minus the better single retriever's", hybrid.recall[3] - best_recall,
         thresholds.min_recall_at_3_margin),
        ("hybrid MRR minus the better single retriever's", hybrid.mrr - best_mrr, thresholds.min_mrr_margin),
    ]
    return [f"{name} on the {split} split is {value:.3f}, below the threshold {floor:.3f}"
            for name, value, floor in measures if value < floor - 1e-12]


@dataclass(frozen=True)
class Interval:
    """An observed difference and its bootstrap percentile interval."""

    observed: float
    low: float
    high: float


def bootstrap_margin(hybrid: Sequence[int | None], singles: Sequence[Sequence[int | None]], *,
                     resamples: int = 2000, seed: int = 17, level: float = 0.95) -> dict[str, Interval]:
    """Paired bootstrap of hybrid minus the better single retriever, over queries.

    Each resample draws as many queries as there are, with replacement, and computes hybrid's Recall@3 and MRR
    minus the higher of the single retrievers' on the same draw (so the comparison is always with whichever single
    retriever does better on that draw, not one fixed in advance).

    Args:
        hybrid: first-accepted ranks of hybrid search, one per query (``None``: not in the top 10).
        singles: the same queries' ranks for each single retriever.
        resamples: how many bootstrap resamples.
        seed: the random generator's seed, so that the interval is reproducible.
        level: the interval's coverage.

    Returns:
        ``{"recall@3": Interval, "mrr": Interval}``: the difference on all queries and the percentile interval.

    Raises:
        ValueError: no queries, lists of different lengths, or fewer than one resample.
    """
    count = len(hybrid)
    if count == 0 or any(len(s) != count for s in singles) or not singles:
        raise ValueError("need the same non-empty list of queries for hybrid and each single retriever")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")

    def per_query(ranks: Sequence[int | None]) -> tuple[np.ndarray, np.ndarray]:
        found = np.array([r is not None and r <= 3 for r in ranks], dtype=float)
        reciprocal = np.array([1.0 / r if r is not None and r <= max(CUTOFFS) else 0.0 for r in ranks])
        return found, reciprocal

    hybrid_found, hybrid_reciprocal = per_query(hybrid)
    single_values = [per_query(s) for s in singles]
    draws = np.random.default_rng(seed).integers(0, count, size=(resamples, count))
    tail = (1.0 - level) / 2 * 100
    result = {}
    for name, index in (("recall@3", 0), ("mrr", 1)):
        own = (hybrid_found, hybrid_reciprocal)[index]
        others = np.stack([values[index] for values in single_values])
        observed = own.mean() - others.mean(axis=1).max()
        differences = own[draws].mean(axis=1) - others[:, draws].mean(axis=2).max(axis=0)
        low, high = np.percentile(differences, [tail, 100 - tail])
        result[name] = Interval(float(observed), float(low), float(high))
    return result


def format_bootstrap(intervals: dict[str, Interval], count: int, resamples: int, seed: int) -> str:
    """One line per measure: the observed margin and its 95% interval."""
    lines = [f"Hybrid minus the better single retriever, {count} queries, {resamples} bootstrap resamples "
             f"(seed {seed}), 95% interval:"]
    for name, interval in intervals.items():
        lines.append(f"  {name}: {interval.observed:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]")
    return "\n".join(lines)


# Messages with more than one need ----------------------------------------------------------------------------

MULTIPART_CUTOFF = 3
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LabelledPart:
    """One need of a labelled message: the words that state it, and the entry ids accepted for it."""

    text: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class LabelledMessage:
    id: str
    text: str
    parts: tuple[LabelledPart, ...]
    split: str


@dataclass(frozen=True)
class MultipartScores:
    """How well the needs of ``count`` messages are served, each share in [0, 1].

    Attributes:
        count: messages measured.
        parts_found: share of messages cut into as many needs as were labelled.
        before: share where every part has an accepted entry among the first k hits of a plain search of the
            whole message (k hits shown in all).
        before_as_many: the same with k hits per labelled part from the plain search (as many hits as the split
            search shows), so that showing more hits is not mistaken for finding better ones.
        after: share where every part has an accepted entry among the first k hits of the need it was found in.
    """

    count: int
    parts_found: float
    before: float
    before_as_many: float
    after: float


def load_messages(path: Path, known_ids: Iterable[str] | None = None) -> list[LabelledMessage]:
    """Read a labelled file of messages with several needs (``needs:`` with ``id``, ``text``, ``parts``, ``split``;
    each part with ``text`` and ``expected``).

    Raises:
        EvaluationError: on a malformed file, a duplicate id, a message with fewer than two parts, a part whose
            text is not in the message, or an expected id not in ``known_ids``.
    """
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("needs"), list):
        raise EvaluationError(f"{path}: expected a list under the key 'needs'")
    known = set(known_ids) if known_ids is not None else None
    messages, seen = [], set()
    for position, item in enumerate(document["needs"], start=1):
        if not isinstance(item, dict):
            raise EvaluationError(f"{path}: need #{position} is not a mapping")
        message_id = str(item.get("id") or f"#{position}")
        text, raw_parts, split = item.get("text"), item.get("parts"), item.get("split", "dev")
        if not isinstance(text, str) or not text.strip():
            raise EvaluationError(f"{path}: need '{message_id}', field 'text': must be non-empty text")
        if not isinstance(raw_parts, list) or len(raw_parts) < 2:
            raise EvaluationError(f"{path}: need '{message_id}', field 'parts': must list at least two parts")
        if split not in SPLITS:
            raise EvaluationError(f"{path}: need '{message_id}', field 'split': must be one of {', '.join(SPLITS)}")
        if message_id in seen:
            raise EvaluationError(f"{path}: need id '{message_id}' is used twice")
        parts = []
        for number, part in enumerate(raw_parts, start=1):
            where = f"{path}: need '{message_id}', part {number}"
            part_text = part.get("text") if isinstance(part, dict) else None
            expected = part.get("expected") if isinstance(part, dict) else None
            if not isinstance(part_text, str) or not part_text.strip() or part_text not in text:
                raise EvaluationError(f"{where}, field 'text': must be words of the message")
            if not isinstance(expected, list) or not expected or not all(isinstance(e, str) for e in expected):
                raise EvaluationError(f"{where}, field 'expected': must be a list of entry ids")
            unknown = [e for e in expected if known is not None and e not in known]
            if unknown:
                raise EvaluationError(f"{where}, field 'expected': unknown entry ids {unknown}")
            parts.append(LabelledPart(part_text, tuple(expected)))
        seen.add(message_id)
        messages.append(LabelledMessage(message_id, text, tuple(parts), split))
    return messages


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def align(labelled: Sequence[str], found: Sequence[str]) -> list[int]:
    """For each labelled part, the index of the found part that shares most of its words (the first on a tie)."""
    found_words = [_words(f) for f in found]
    return [max(range(len(found)), key=lambda i: (len(_words(text) & found_words[i]), -i)) for text in labelled]


def _found(ids: Sequence[str], part: LabelledPart) -> bool:
    return first_accepted_rank(ids, part.expected) is not None


def judge_message(engine: SearchEngine, message: LabelledMessage, mode: SearchMode = SearchMode.HYBRID,
                  k: int = MULTIPART_CUTOFF) -> dict[str, bool]:
    """Whether every part of ``message`` is served: ``before``, ``before_as_many``, ``after`` and
    ``parts_found`` as in :class:`MultipartScores`."""
    wide = [h.entry.id for h in engine.search(message.text, top=k * len(message.parts), mode=mode)]
    results = engine.search_parts(message.text, top=k, mode=mode)
    pairing = align([p.text for p in message.parts], [r.need.text for r in results])
    return {
        "parts_found": len(results) == len(message.parts),
        "before": all(_found(wide[:k], p) for p in message.parts),
        "before_as_many": all(_found(wide, p) for p in message.parts),
        "after": all(_found([h.entry.id for h in results[i].hits], p) for p, i in zip(message.parts, pairing)),
    }


def evaluate_multipart(engine: SearchEngine, messages: Sequence[LabelledMessage],
                       mode: SearchMode = SearchMode.HYBRID, k: int = MULTIPART_CUTOFF) -> dict[str, MultipartScores]:
    """:class:`MultipartScores` for each split present in ``messages``."""
    verdicts: dict[str, list[dict[str, bool]]] = {}
    for message in messages:
        verdicts.setdefault(message.split, []).append(judge_message(engine, message, mode, k))
    keys = ("parts_found", "before", "before_as_many", "after")
    return {split: MultipartScores(len(values), **{key: sum(v[key] for v in values) / len(values) for key in keys})
            for split, values in verdicts.items()}


def interleave(parts: Sequence[Sequence[Hit]]) -> list[str]:
    """The entry ids of several parts' hits as one list, first hits first (round robin), each id once."""
    ids: list[str] = []
    for row in range(max((len(p) for p in parts), default=0)):
        for hits in parts:
            if row < len(hits) and hits[row].entry.id not in ids:
                ids.append(hits[row].entry.id)
    return ids


def evaluate_single_needs_split(engine: SearchEngine, queries: Sequence[LabelledQuery],
                                mode: SearchMode = SearchMode.HYBRID) -> dict[str, tuple[int, Scores]]:
    """Single needs searched as the assistant now searches them (:meth:`SearchEngine.search_parts`).

    Returns:
        For each split, ``(wrongly_split, scores)``: how many single needs were cut into several, and Recall@k
        and MRR over the hits shown (a cut need's parts' hits interleaved, see :func:`interleave`).
    """
    depth = max(CUTOFFS)
    ranks: dict[str, list[int | None]] = {}
    cut: dict[str, int] = {}
    for query in queries:
        results = engine.search_parts(query.text, top=depth, mode=mode)
        cut[query.split] = cut.get(query.split, 0) + (len(results) > 1)
        ids = interleave([r.hits for r in results])
        ranks.setdefault(query.split, []).append(first_accepted_rank(ids, query.expected))
    return {split: (cut[split], score_ranks(values)) for split, values in ranks.items()}


def format_multipart_table(results: dict[str, MultipartScores], k: int = MULTIPART_CUTOFF) -> str:
    """A Markdown table, one row per split, of the shares in :class:`MultipartScores`."""
    lines = [f"| split | messages | cut into the labelled needs | every need in top {k}: plain search "
             f"({k} hits) | plain search ({k} hits per need) | split search ({k} hits per need) |",
             "|---|---|---|---|---|---|"]
    for split in SPLITS:
        scores = results.get(split)
        if scores is not None:
            lines.append(f"| {split} | {scores.count} | {scores.parts_found:.3f} | {scores.before:.3f} | "
                         f"{scores.before_as_many:.3f} | {scores.after:.3f} |")
    return "\n".join(lines)


def format_single_split_table(results: dict[str, tuple[int, Scores]]) -> str:
    """A Markdown table of :func:`evaluate_single_needs_split`."""
    header = ("| split | queries | cut into several needs | " + " | ".join(f"Recall@{k}" for k in CUTOFFS)
              + " | MRR |")
    lines = [header, "|" + "---|" * (4 + len(CUTOFFS))]
    for split in SPLITS:
        if split in results:
            wrongly, scores = results[split]
            cells = " | ".join(f"{scores.recall[k]:.3f}" for k in CUTOFFS)
            lines.append(f"| {split} | {scores.count} | {wrongly} | {cells} | {scores.mrr:.3f} |")
    return "\n".join(lines)
