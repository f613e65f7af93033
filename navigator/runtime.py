"""Creating the heavy objects once, at start-up, from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from index.build import BuildReport, open_index
from index.catalogue import Catalogue, load_catalogue
from index.embedding import Embedder, load_embedding_model
from index.engine import SearchEngine
from index.text import TextProcessor
from navigator.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The loaded model, text processor and search engine."""

    settings: Settings
    catalogue: Catalogue
    embedder: Embedder
    processor: TextProcessor
    engine: SearchEngine
    build_report: BuildReport | None


def load_embedder(settings: Settings) -> Embedder:
    return load_embedding_model(settings.embedding_model, threads=settings.torch_threads or None)


def open_runtime(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    processor: TextProcessor | None = None,
    progress: bool = False,
    force_full: bool = False,
) -> Runtime:
    """Load the catalogue, the model and the index; update or rebuild the index first if it is stale.

    Raises:
        CatalogueError: the catalogue is invalid (nothing is built from it).
        EmbeddingModelError: the model cannot be loaded.
    """
    catalogue = load_catalogue(settings.knowledge_dir)
    embedder = embedder or load_embedder(settings)
    processor = processor or TextProcessor()
    state, report = open_index(settings.index_dir, catalogue, embedder, processor,
                               options=settings.build_options, progress=progress, force_full=force_full)
    engine = SearchEngine(state, embedder, processor, settings.engine_settings)
    return Runtime(settings, catalogue, embedder, processor, engine, report)
