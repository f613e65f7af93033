"""Keyword retrieval over whole entries with BM25 (the ``bm25s`` library).

Documents are lists of lemmas made by :class:`index.text.TextProcessor`, one
document per catalogue entry, addressed by its position in the entry list.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.errors import IndexCorruptError

# bm25s reports an empty query at INFO; for us that is an ordinary case.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """BM25 scores of documents for a query's lemmas."""

    def __init__(self, retriever: bm25s.BM25, size: int):
        self._retriever = retriever
        self._size = size

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> KeywordIndex:
        """Index ``documents`` (lists of lemmas) with BM25 (Lucene variant, k1=1.5, b=0.75)."""
        retriever = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
        # An empty document still takes its position, so positions stay aligned with entries.
        retriever.index([list(doc) or [""] for doc in documents], show_progress=False)
        return cls(retriever, len(documents))

    def __len__(self) -> int:
        return self._size

    def scores(self, query_lemmas: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every document for ``query_lemmas``; 0 for documents outside ``mask``.

        Returns:
            float32 array of length ``len(self)``; higher is better, 0 means no shared term.
        """
        known = [t for t in query_lemmas if t in self._retriever.vocab_dict and t]
        if not known or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        weights = None if mask is None else mask.astype(np.float32)
        return np.asarray(self._retriever.get_scores(known, weight_mask=weights), dtype=np.float32)

    def document_frequencies(self, lemmas: Sequence[str]) -> dict[str, int]:
        """How many documents use each of ``lemmas``; 0 for a lemma that no document uses."""
        indptr = self._retriever.scores["indptr"]
        vocabulary = self._retriever.vocab_dict
        frequencies = {}
        for lemma in lemmas:
            column = vocabulary.get(lemma)
            # Each column of the score matrix holds one entry per document that uses the word.
            inside = column is not None and column + 1 < len(indptr)
            frequencies[lemma] = int(indptr[column + 1] - indptr[column]) if inside else 0
        return frequencies

    def search(
        self, query_lemmas: Sequence[str], k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best documents with a positive score.

        Returns:
            ``(positions, scores)`` best first, ties broken by the smaller position.
        """
        scores = self.scores(query_lemmas, mask)
        positive = np.flatnonzero(scores > 0)
        if not len(positive) or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(positive) > k:
            cut = np.partition(scores[positive], -k)[-k]
            positive = positive[scores[positive] >= cut]
        order = np.lexsort((positive, -scores[positive]))[:k]
        chosen = positive[order]
        return chosen.astype(np.int64), scores[chosen]

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexCorruptError: if the files cannot be read or hold another number of documents.
        """
        try:
            retriever = bm25s.BM25.load(str(folder))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"cannot read the keyword index in {folder}: {exc}") from exc
        if retriever.scores.get("num_docs") != size:
            raise IndexCorruptError(f"the keyword index in {folder} holds {retriever.scores.get('num_docs')} "
                                    f"documents, the manifest says {size}")
        return cls(retriever, size)
