"""Dense retrieval over passage vectors with FAISS.

Small collections use an exact inner-product index; above ``ann_threshold``
vectors an inverted-file index (IVF) answers approximately, scanning
``nprobe`` of its lists. Both keep the caller's 64-bit passage ids, and both
support adding and removing vectors, so a changed catalogue entry is updated
in place without a rebuild.
"""

from __future__ import annotations

import enum
import math
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorruptError


class DenseKind(str, enum.Enum):
    EXACT = "exact"
    IVF = "ivf"


def check_vectors(vectors: np.ndarray, dimension: int, what: str = "vectors") -> np.ndarray:
    """Return ``vectors`` as a C-contiguous float32 matrix, or raise ``ValueError`` saying what is wrong."""
    array = np.asarray(vectors)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"{what} must have shape (n, {dimension}), got {array.shape}")
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return np.ascontiguousarray(array)


def _check_ids(ids: np.ndarray, count: int) -> np.ndarray:
    array = np.asarray(ids, dtype=np.int64).reshape(-1)
    if array.shape[0] != count:
        raise ValueError(f"got {array.shape[0]} ids for {count} vectors")
    return np.ascontiguousarray(array)


class DenseIndex:
    """Passage vectors by id, searchable by inner product (cosine for normalised vectors)."""

    def __init__(self, index: faiss.Index, kind: DenseKind, nprobe: int = 32):
        self._index = index
        self.kind = kind
        self.nprobe = nprobe
        if kind is DenseKind.IVF:
            faiss.extract_index_ivf(index).nprobe = nprobe

    @classmethod
    def build(
        cls, vectors: np.ndarray, ids: np.ndarray, dimension: int, *, ann_threshold: int = 20_000, nprobe: int = 32
    ) -> DenseIndex:
        """Index ``vectors`` under ``ids``: exact below ``ann_threshold`` vectors, IVF from there on.

        The IVF index uses about ``4 * sqrt(n)`` lists, trained on the vectors themselves.
        """
        vectors = check_vectors(vectors, dimension)
        ids = _check_ids(ids, len(vectors))
        if len(np.unique(ids)) != len(ids):
            raise ValueError("passage ids must be unique")
        n = len(vectors)
        if n < ann_threshold:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
            kind = DenseKind.EXACT
        else:
            nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))
            quantizer = faiss.IndexFlatIP(dimension)
            ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(vectors)
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            index, kind = ivf, DenseKind.IVF
        index.add_with_ids(vectors, ids)
        return cls(index, kind, nprobe)

    @property
    def dimension(self) -> int:
        return self._index.d

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add vectors under new ids (an IVF index files them in its existing lists)."""
        vectors = check_vectors(vectors, self.dimension)
        if len(vectors):
            self._index.add_with_ids(vectors, _check_ids(ids, len(vectors)))

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id; ids that are not present are ignored. Returns how many were removed."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return 0
        ids = np.ascontiguousarray(ids)
        # IVF's id hashtable accepts only an array selector; the flat index accepts it too.
        return int(self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``, shape ``(len(ids), dimension)``.

        Raises:
            KeyError: if an id is not in the index.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for row, passage_id in enumerate(ids):
            try:
                out[row] = self._index.reconstruct(int(passage_id))
            except RuntimeError as exc:
                raise KeyError(int(passage_id)) from exc
        return out

    def search(
        self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest passages to one query vector.

        Args:
            query: one normalised vector, shape ``(dimension,)`` or ``(1, dimension)``.
            k: how many results at most.
            allowed_ids: when given, only these passage ids can be returned.

        Returns:
            ``(ids, scores)``: int64 ids and float32 inner products, best first, ties
            broken by the smaller id; shorter than ``k`` when fewer passages qualify.
        """
        query = check_vectors(query, self.dimension, "the query vector")
        if k <= 0 or self._index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed_ids is not None:
            allowed = np.asarray(allowed_ids, dtype=np.int64)
            if not len(allowed):
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            selector = faiss.IDSelectorBatch(allowed)
            if self.kind is DenseKind.IVF:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
        k = min(k, self._index.ntotal)
        scores, ids = self._index.search(query, k, params=params)
        ids, scores = ids[0], scores[0]
        keep = ids >= 0
        ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, nprobe: int = 32) -> DenseIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexCorruptError: if the file cannot be read as a FAISS index.
        """
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"cannot read the vector index {path}: {exc}") from exc
        kind = DenseKind.IVF if isinstance(index, faiss.IndexIVF) else DenseKind.EXACT
        return cls(index, kind, nprobe)
