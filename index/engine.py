"""Hybrid search: dense and keyword retrieval fused per entry (by reciprocal rank or a convex combination of
normalised scores), with explanations."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from index.catalogue import Entry, EntryType, Site
from index.embedding import E5_MODEL, Embedder
from index.explain import (Explanation, ReasonSentence, best_sentence, reason_sentences, shared_terms,
                           swedish_reason_sentences, term_weights, trim)
from index.errors import QueryError
from index.fusion import (FusionMethod, Normalisation, best_possible_score, convex_combination,
                          reciprocal_rank_fusion)
from index.needs import MAX_PARTS, NeedPart, split_needs, topic_of
from index.routing import contact_id
from index.store import IndexState
from index.text import Term, TextProcessor, clean_query

# The lowest score each retriever can give, for theoretical-min normalisation: cosine similarity of unit vectors,
# and BM25 of an entry that shares no word with the query.
DENSE_FLOOR = -1.0
KEYWORD_FLOOR = 0.0


class SearchMode(str, enum.Enum):
    HYBRID = "hybrid"
    DENSE = "dense"
    KEYWORD = "keyword"


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on what a search may return; an empty set means no restriction.

    Attributes:
        types: entry types to keep.
        sites: sites to keep.
        organisations: organisations to keep, compared case-insensitively.
        open_to_companies: when True, keep only entries open to companies (experts always pass).
        exclude_ids: entries never to return, such as those already shown.
    """

    types: frozenset[EntryType] = frozenset()
    sites: frozenset[Site] = frozenset()
    organisations: frozenset[str] = frozenset()
    open_to_companies: bool | None = None
    exclude_ids: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.types or self.sites or self.organisations or self.open_to_companies is not None
                    or self.exclude_ids)


DENSE_SHARE_BY_MODEL = {E5_MODEL: 0.95}
"""The convex fusion's dense share for an embedding model whose scores spread differently from MiniLM's, chosen on
the dev split like the default (docs/benchmarks.md, "A multilingual embedding model"): e5's cosine similarities are
compressed, so its side needs nearly all the weight."""


def dense_share_for(model: str) -> float:
    """The convex fusion's dense share for the embedding model ``model`` (the default 0.8 for MiniLM and others)."""
    return DENSE_SHARE_BY_MODEL.get(model, EngineSettings.dense_share)


@dataclass(frozen=True)
class EngineSettings:
    """Tuning of the search.

    Attributes:
        candidates: how many entries each retriever contributes to the fusion.
        fusion: how the two retrievers are fused (see :class:`~index.fusion.FusionMethod`).
        rrf_k: the reciprocal-rank-fusion constant (``fusion=RRF``).
        dense_weight, keyword_weight: each retriever's weight in reciprocal rank fusion.
        dense_share: the convex weight ``alpha`` of the dense score; the keyword score gets ``1 - alpha``
            (``fusion=CONVEX``).
        normalisation: how each retriever's scores are put in [0, 1] before the convex combination.
        max_query_chars: longer queries are refused with a QueryError.
        max_top: the most hits one search may ask for.

    Raises:
        ValueError: a setting is out of range.
    """

    candidates: int = 50
    # Chosen on the dev split of tests/eval/queries.yaml only (docs/benchmarks.md, "Fusion"): the convex
    # combination with theoretical-min normalisation and alpha 0.8 had the best dev Recall@3 and MRR of a grid over
    # both normalisations and alpha in steps of 0.05, ahead of the best reciprocal rank fusion.
    fusion: FusionMethod = FusionMethod.CONVEX
    dense_share: float = 0.8
    normalisation: Normalisation = Normalisation.THEORETICAL_MIN
    # Reciprocal rank fusion, kept to compare with, was tuned the same way: a small k lets the top ranks decide,
    # and keyword evidence counts more than dense evidence on this catalogue.
    rrf_k: int = 5
    dense_weight: float = 0.6
    keyword_weight: float = 1.0
    max_query_chars: int = 4000
    max_top: int = 100

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense_share <= 1.0:
            raise ValueError(f"dense_share must be between 0 and 1, got {self.dense_share}")
        if self.rrf_k < 0:
            raise ValueError(f"rrf_k must be at least 0, got {self.rrf_k}")
        if self.candidates < 1:
            raise ValueError(f"candidates must be at least 1, got {self.candidates}")


@dataclass(frozen=True)
class Hit:
    """One search result.

    Attributes:
        entry: the catalogue record.
        rank: 1 for the best hit.
        score: fused score in [0, 1]: 1 means ranked first (reciprocal rank fusion) or scored best (convex
            combination) by every retriever used.
        similarity: cosine similarity of the query and the entry's best passage (about 0.2 is unrelated,
            0.5 and above is a close match for the default model); ``None`` in keyword-only mode.
        keyword_score: the BM25 score (0 when no query word occurs in the entry).
        explanation: why it matched.
    """

    entry: Entry
    rank: int
    score: float
    similarity: float | None
    keyword_score: float
    explanation: Explanation

    def to_dict(self) -> dict[str, object]:
        """The one JSON form of a hit: the command line, the console and the API all publish this.

        ``site`` is the machine value (``flemingsberg``), ``site_label`` its name for people; ``score`` the
        fused rank score in [0, 1] (1: ranked first by both retrievers); ``similarity`` the cosine similarity
        of the need and the entry's best passage (``None`` when the dense side did not score it); ``reason``
        the passage shown as the reason; ``terms`` the need's words the entry shares; ``contact`` the id of
        the expert entry requests about this entry go to, or ``None``.
        """
        return {
            "rank": self.rank,
            **self.entry.identity(),
            "score": round(self.score, 4),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "reason": self.explanation.reason,
            "terms": list(self.explanation.terms),
            "contact": contact_id(self.entry),
        }


def _same_need(first: list[Hit], second: list[Hit]) -> bool:
    """Whether two parts of a message are one need: one finds nothing, or both lead to the same entry first."""
    return not first or not second or first[0].entry.id == second[0].entry.id


@dataclass(frozen=True)
class PartHits:
    """The matches for one need of a message.

    Attributes:
        need: the need: ``need.text`` is what was searched, ``need.topic`` a short form for a heading.
        hits: up to ``top`` hits for it, best first, ranked from 1.
    """

    need: NeedPart
    hits: list[Hit]

    def to_dict(self) -> dict[str, object]:
        return {"text": self.need.text, "topic": self.need.topic, "hits": [h.to_dict() for h in self.hits]}


@dataclass
class _Columns:
    """Per-entry attributes as arrays, so that a filter over 100,000 entries is a few vector operations."""

    types: np.ndarray
    sites: np.ndarray
    organisations: np.ndarray
    open_to_companies: np.ndarray
    organisation_codes: dict[str, int] = field(default_factory=dict)


class SearchEngine:
    """Answers queries from a loaded :class:`IndexState`. Create once; searching is thread-compatible."""

    def __init__(self, state: IndexState, embedder: Embedder, processor: TextProcessor,
                 settings: EngineSettings = EngineSettings()):
        self._state = state
        self._embedder = embedder
        self._processor = processor
        self.settings = settings
        self._documents = state.documents
        self._position = {d.entry.id: i for i, d in enumerate(self._documents)}
        self._passage_owner = {pid: i for i, d in enumerate(self._documents) for pid in d.passage_ids}
        self._lemma_sets: dict[int, frozenset[str]] = {}
        self._sentences: dict[int, tuple[ReasonSentence, ...]] = {}
        self._swedish_sentences: dict[int, tuple[ReasonSentence, ...]] = {}
        self._columns = self._make_columns()

    @property
    def state(self) -> IndexState:
        return self._state

    def __len__(self) -> int:
        return len(self._documents)

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with ``entry_id``, or ``None``."""
        position = self._position.get(entry_id)
        return None if position is None else self._documents[position].entry

    def entries(self) -> Iterable[Entry]:
        return (d.entry for d in self._documents)

    def terms(self, text: str) -> list[Term]:
        """The searchable words of ``text`` after cleaning; empty when it has none.

        Raises:
            QueryError: as :meth:`search` would for this text.
        """
        return self._processor.terms(clean_query(text, self.settings.max_query_chars))

    def search(
        self,
        query: str,
        *,
        top: int = 5,
        filters: SearchFilters = SearchFilters(),
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[Hit]:
        """Rank entries for ``query``.

        Args:
            query: the company's need in plain words; HTML and control characters are cleaned away.
            top: how many hits at most (1 to ``settings.max_top``).
            filters: what to restrict the search to.
            mode: hybrid (the default), dense only or keyword only.

        Returns:
            Up to ``top`` hits, best first; ties are broken by entry id. Empty when nothing passes the filters.

        Raises:
            QueryError: the query is empty, too long or has nothing searchable.
            ValueError: ``top`` is out of range.
        """
        if not 1 <= top <= self.settings.max_top:
            raise ValueError(f"top must be between 1 and {self.settings.max_top}, got {top}")
        text = clean_query(query, self.settings.max_query_chars)
        terms = self._processor.terms(text)
        lemmas = [t.lemma for t in terms]
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []

        query_vector = None
        dense_scores: dict[int, float] | None = None
        keyword_scores: dict[int, float] = {}
        if mode in (SearchMode.HYBRID, SearchMode.DENSE):
            query_vector = self._embedder.encode_queries([text])[0]
            dense_scores = self._dense_candidates(query_vector, mask)
        if mode in (SearchMode.HYBRID, SearchMode.KEYWORD):
            positions, scores = self._state.keyword.search(lemmas, self.settings.candidates, mask)
            keyword_scores = dict(zip(positions.tolist(), scores.tolist()))

        if self.settings.fusion is FusionMethod.CONVEX:
            fused = self._convex(mode, lemmas, mask, query_vector, dense_scores, keyword_scores)[:top]
        else:
            fused = self._rrf(mode, dense_scores, keyword_scores)[:top]
        weights = term_weights(lemmas, self._state.keyword.document_frequencies(sorted(set(lemmas))),
                               len(self._documents))
        hits = []
        for rank, (position, score) in enumerate(fused, start=1):
            similarities = self._passage_similarities(position, query_vector)
            similarity = None if similarities is None else float(similarities.max())
            document = self._documents[position]
            reason = best_sentence(self._sentences_of(position), weights, similarities)
            swedish = self._swedish_sentences_of(position)
            explanation = Explanation(
                reason=trim(reason.text),
                terms=shared_terms(terms, self._lemmas_of(position)),
                reason_sv=trim(best_sentence(swedish, weights, None).text) if swedish else "",
            )
            hits.append(Hit(document.entry, rank, min(1.0, score), similarity,
                            keyword_scores.get(position, 0.0), explanation))
        return hits

    def search_parts(
        self,
        query: str,
        *,
        top: int = 5,
        filters: SearchFilters = SearchFilters(),
        mode: SearchMode = SearchMode.HYBRID,
        max_parts: int = MAX_PARTS,
    ) -> list[PartHits]:
        """Rank entries for each distinct need in ``query``.

        The message is cut where a company goes on to another need (see :func:`index.needs.split_needs`). A
        part stays a need of its own only when it has searchable words and its best hit differs from the best
        hit of the part before it; otherwise it is joined to that part. When one need is left, the result is
        exactly :meth:`search` of the whole message.

        Args:
            query, top, filters, mode: as for :meth:`search`; each part is searched with them.
            max_parts: the most needs to tell apart (1 turns splitting off).

        Returns:
            One :class:`PartHits` per need, in the order written. For a single need: one, whose ``need.text``
            is the cleaned message and whose hits are those of :meth:`search`.

        Raises:
            QueryError: as :meth:`search`, for the whole message.
            ValueError: ``top`` or ``max_parts`` is out of range.
        """
        if not 1 <= top <= self.settings.max_top:
            raise ValueError(f"top must be between 1 and {self.settings.max_top}, got {top}")
        text = clean_query(query, self.settings.max_query_chars)
        texts = [p.text for p in split_needs(text, max_parts)]
        results: list[list[Hit]] = []
        if len(texts) > 1:
            texts = self._join_unsearchable(texts)
            results = [self.search(t, top=top, filters=filters, mode=mode) for t in texts]
            # Neighbours whose best match is the same entry are one need put in two clauses: join them, search
            # the joined text, and look again, until every neighbour leads elsewhere.
            joined = True
            while joined and len(texts) > 1:
                joined = False
                for i in range(1, len(texts)):
                    if _same_need(results[i - 1], results[i]):
                        texts[i - 1:i + 1] = [f"{texts[i - 1]}, {texts[i]}"]
                        results[i - 1:i + 1] = [self.search(texts[i - 1], top=top, filters=filters, mode=mode)]
                        joined = True
                        break
        if len(texts) <= 1:
            return [PartHits(NeedPart(text, topic_of(text)), self.search(query, top=top, filters=filters, mode=mode))]
        return [PartHits(NeedPart.of(t), hits) for t, hits in zip(texts, results)]

    def _join_unsearchable(self, texts: list[str]) -> list[str]:
        """``texts`` with each part that has no searchable word joined to the part before it (or after it,
        for the first)."""
        joined: list[str] = []
        pending = ""
        for text in texts:
            try:
                searchable = bool(self.terms(text))
            except QueryError:
                searchable = False
            if not searchable:
                if joined:
                    joined[-1] = f"{joined[-1]}, {text}"
                else:
                    pending = f"{pending}, {text}" if pending else text
                continue
            joined.append(f"{pending}, {text}" if pending else text)
            pending = ""
        if pending:
            joined.append(pending)
        return joined

    def _rrf(self, mode: SearchMode, dense_scores: dict[int, float] | None,
             keyword_scores: dict[int, float]) -> list[tuple[int, float]]:
        """Candidates fused by reciprocal rank, with scores divided by the best possible one (so in [0, 1])."""
        rankings: list[list[int]] = []
        weights: list[float] = []
        if dense_scores is not None:
            rankings.append(list(dense_scores))
            weights.append(self.settings.dense_weight)
        if mode in (SearchMode.HYBRID, SearchMode.KEYWORD):
            rankings.append(list(keyword_scores))
            weights.append(self.settings.keyword_weight)
        ceiling = best_possible_score(weights, self.settings.rrf_k)
        return [(position, score / ceiling)
                for position, score in reciprocal_rank_fusion(rankings, k=self.settings.rrf_k, weights=weights)]

    def _convex(self, mode: SearchMode, lemmas: list[str], mask: np.ndarray | None, query_vector: np.ndarray | None,
                dense_scores: dict[int, float] | None, keyword_scores: dict[int, float]) -> list[tuple[int, float]]:
        """Candidates fused by a convex combination of normalised scores (in [0, 1]).

        In hybrid mode the candidates are the union of both retrievers' candidates, and each candidate gets both
        retrievers' real scores: its best passage's cosine similarity, and its BM25 score (0 without a shared
        word), so that no score is guessed.
        """
        if mode is SearchMode.DENSE:
            return convex_combination([dense_scores or {}], [1.0], normalisation=self.settings.normalisation,
                                      floors=[DENSE_FLOOR])
        if mode is SearchMode.KEYWORD:
            return convex_combination([keyword_scores], [1.0], normalisation=self.settings.normalisation,
                                      floors=[KEYWORD_FLOOR])
        assert dense_scores is not None and query_vector is not None
        dense = dict(dense_scores)
        for position in keyword_scores.keys() - dense.keys():
            dense[position] = float(self._passage_similarities(position, query_vector).max())
        keyword = dict(keyword_scores)
        missing = dense_scores.keys() - keyword.keys()
        if missing:
            all_scores = self._state.keyword.scores(lemmas, mask)
            keyword.update({position: float(all_scores[position]) for position in missing})
        alpha = self.settings.dense_share
        return convex_combination([dense, keyword], [alpha, 1.0 - alpha], normalisation=self.settings.normalisation,
                                  floors=[DENSE_FLOOR, KEYWORD_FLOOR])

    def _dense_candidates(self, query_vector: np.ndarray, mask: np.ndarray | None) -> dict[int, float]:
        """The best ``candidates`` entries (positions) with their best passage's cosine similarity, best first."""
        allowed = None
        if mask is not None:
            allowed = np.fromiter(
                (pid for i in np.flatnonzero(mask) for pid in self._documents[i].passage_ids), dtype=np.int64)
        # Several passages may belong to one entry: fetch enough to fill the candidate list with entries.
        passage_ids, scores = self._state.dense.search(query_vector, self.settings.candidates * 4, allowed)
        best: dict[int, float] = {}
        for pid, score in zip(passage_ids.tolist(), scores.tolist()):
            owner = self._passage_owner.get(pid)
            if owner is not None and owner not in best:
                best[owner] = score  # passages come best first, so the first one seen is the entry's best
        # Equal scores rank by entry id (positions follow ids), never by the passages' hashed ids.
        ranking = sorted(best, key=lambda owner: (-best[owner], owner))[: self.settings.candidates]
        return {owner: best[owner] for owner in ranking}

    def _passage_similarities(self, position: int, query_vector: np.ndarray | None) -> np.ndarray | None:
        """The cosine similarity of the query and each passage of the entry, in passage order; ``None``
        without a query vector (keyword-only search)."""
        if query_vector is None:
            return None
        vectors = self._state.dense.vectors(np.array(self._documents[position].passage_ids, dtype=np.int64))
        return vectors @ query_vector

    def _sentences_of(self, position: int) -> tuple[ReasonSentence, ...]:
        cached = self._sentences.get(position)
        if cached is None:
            document = self._documents[position]
            cached = reason_sentences(document.entry, document.passages, self._processor)
            self._sentences[position] = cached
        return cached

    def _swedish_sentences_of(self, position: int) -> tuple[ReasonSentence, ...]:
        cached = self._swedish_sentences.get(position)
        if cached is None:
            cached = swedish_reason_sentences(self._documents[position].entry, self._processor)
            self._swedish_sentences[position] = cached
        return cached

    def _lemmas_of(self, position: int) -> frozenset[str]:
        cached = self._lemma_sets.get(position)
        if cached is None:
            cached = frozenset(self._documents[position].lemmas)
            self._lemma_sets[position] = cached
        return cached

    def _make_columns(self) -> _Columns:
        types = list(EntryType)
        sites = list(Site)
        codes: dict[str, int] = {}
        organisations = np.array(
            [codes.setdefault(d.entry.organisation.casefold(), len(codes)) for d in self._documents], dtype=np.int32)
        return _Columns(
            types=np.array([types.index(d.entry.type) for d in self._documents], dtype=np.int8),
            sites=np.array([sites.index(d.entry.site) for d in self._documents], dtype=np.int8),
            organisations=organisations,
            open_to_companies=np.array(
                [d.entry.open_to_companies is not False for d in self._documents], dtype=bool),
            organisation_codes=codes,
        )

    def _mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Which entries pass ``filters``, or ``None`` when nothing is filtered."""
        if not filters.active:
            return None
        columns = self._columns
        mask = np.ones(len(self._documents), dtype=bool)
        if filters.types:
            codes = [list(EntryType).index(t) for t in filters.types]
            mask &= np.isin(columns.types, codes)
        if filters.sites:
            codes = [list(Site).index(s) for s in filters.sites]
            mask &= np.isin(columns.sites, codes)
        if filters.organisations:
            codes = [columns.organisation_codes[o.casefold()] for o in filters.organisations
                     if o.casefold() in columns.organisation_codes]
            mask &= np.isin(columns.organisations, codes)
        if filters.open_to_companies:
            mask &= columns.open_to_companies
        for entry_id in filters.exclude_ids:
            position = self._position.get(entry_id)
            if position is not None:
                mask[position] = False
        return mask
