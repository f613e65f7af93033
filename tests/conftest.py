"""Fixtures shared by the whole suite.

- ``processor``, ``embedder``, ``sample_dir``, ``sample_engine``, ``real_embedder``: the engine on the sample
  catalogue (fake or real embedder).
- ``stack``: the running assistant for the end-to-end tests (tests/e2e) and the browser tests (tests/browser),
  started once per session and shared by both; see :func:`stack`.
- ``postgres_url``, ``redis_url``: a fresh PostgreSQL database and an emptied Redis database for one test, on
  servers the session starts itself when a test first asks (or the ones ``NAVIGATOR_TEST_DATABASE_URL`` and
  ``NAVIGATOR_TEST_REDIS_URL`` name); ``postgres_server`` and ``redis_server`` are those servers. See
  tests/servers.py.
"""

from __future__ import annotations

import contextlib
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
from tests.servers import PostgresServer, ServerError, redis_command, running_postgres, running_redis  # noqa: E402

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started at the first test that needs it and removed at the end.

    A throwaway server on a free port with its data in a temporary folder, or the running server that
    ``NAVIGATOR_TEST_DATABASE_URL`` names. Its ``database()`` context manager yields the URL of a new database
    and drops it afterwards, for fixtures of a wider scope than ``postgres_url``.
    """
    with contextlib.ExitStack() as servers:
        try:
            server = servers.enter_context(running_postgres())
        except ServerError as error:
            pytest.fail(str(error), pytrace=False)
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards.

    The URL is SQLAlchemy's ``postgresql+psycopg://postgres@127.0.0.1:PORT/navigator_test_<hex>``, the form
    ``NAVIGATOR_DATABASE_URL`` takes (``tests.servers.libpq_url`` gives psycopg's).
    """
    with postgres_server.database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL (``redis://127.0.0.1:PORT/0``) of the session's Redis server, started at the first test that needs
    it and stopped at the end; or the running server that ``NAVIGATOR_TEST_REDIS_URL`` names."""
    with contextlib.ExitStack() as servers:
        try:
            url = servers.enter_context(running_redis())
        except ServerError as error:
            pytest.fail(str(error), pytrace=False)
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis URL, its database emptied (FLUSHDB) before this test."""
    redis_command(redis_server, "FLUSHDB")
    return redis_server
