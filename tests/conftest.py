"""Fixtures shared by the whole suite.

- ``processor``, ``embedder``, ``sample_dir``, ``sample_engine``, ``real_embedder``: the engine on the sample
  catalogue (fake or real embedder).
- ``stack``: the running assistant for the end-to-end tests (tests/e2e) and the browser tests (tests/browser),
  started once per session and shared by both; see :func:`stack`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from index.build import build_index  # noqa: E402
from index.catalogue import load_catalogue  # noqa: E402
from index.engine import SearchEngine  # noqa: E402
from index.text import TextProcessor  # noqa: E402
from navigator.launcher import Stack, free_port, running  # noqa: E402
from navigator.settings import Settings  # noqa: E402
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"


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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Settings]]:
    """The Rasa server and the Navigator service on free ports, started once: yields ``(Stack, Settings)``.

    Both are real: the trained model (var/models/navigator.tar.gz), the real embedding model and index
    (var/index), and fresh SQLite request and tracker databases in a temporary folder. ``Stack`` has
    ``rasa_url`` and ``service_url`` (``http://127.0.0.1:PORT``), ``rest_webhook``, ``run_dir`` (with
    service.log and rasa.log) and ``processes``. ``Settings`` are the service's settings: ``database_url`` and
    ``tracker_db_url`` point at the fresh databases, ``rasa_public_url`` is ``http://localhost:RASA_PORT``
    (the address the chat widget connects to), the session key file is in the temporary folder. The
    variables are also set in this process's environment while the stack runs, so that stores opened by a
    test see the same databases.
    """
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make model' (make test does it first)")
    data = tmp_path_factory.mktemp("stack")
    rasa_port, service_port = free_port(), free_port()
    environment = {
        "NAVIGATOR_DATABASE_URL": f"sqlite:///{data / 'requests.db'}",
        "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{data / 'tracker.db'}",
        "NAVIGATOR_RASA_PUBLIC_URL": f"http://localhost:{rasa_port}",
        "NAVIGATOR_SESSION_KEY_FILE": str(data / "session.key"),
    }
    settings = Settings.from_env({**environment, "NAVIGATOR_INDEX_DIR": str(PROJECT_ROOT / "var" / "index")})
    previous = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    try:
        with running(settings, model=MODEL, rasa_port=rasa_port, service_port=service_port,
                     run_dir=data / "run") as started:
            yield started, settings
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
