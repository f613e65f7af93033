from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from index.build import build_index  # noqa: E402
from index.catalogue import load_catalogue  # noqa: E402
from index.engine import SearchEngine  # noqa: E402
from index.text import TextProcessor  # noqa: E402
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def processor() -> TextProcessor:
    return TextProcessor()


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    return write_catalogue(tmp_path / "knowledge", SAMPLE)


@pytest.fixture
def sample_engine(sample_dir: Path, embedder: HashingEmbedder, processor: TextProcessor) -> SearchEngine:
    state, _ = build_index(load_catalogue(sample_dir), embedder, processor)
    return SearchEngine(state, embedder, processor)


@pytest.fixture(scope="session")
def real_embedder():
    from index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
