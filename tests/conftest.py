"""Fixtures shared by the whole suite.

- ``processor``, ``embedder``, ``sample_dir``, ``sample_engine``, ``real_embedder``: the engine on the sample
  catalogue (fake or real embedder).
- ``stack``: the running assistant for the end-to-end tests (tests/e2e), the browser tests (tests/browser) and
  the Slack and Teams tests (tests/channels), started once per session with both channels on against the local
  fakes ``fake_slack`` and ``fake_microsoft``; see :func:`stack`.
- ``postgres_url``, ``redis_url``: a fresh PostgreSQL database and an emptied Redis database for one test, on
  servers the session starts itself when a test first asks (or the ones ``NAVIGATOR_TEST_DATABASE_URL`` and
  ``NAVIGATOR_TEST_REDIS_URL`` name); ``postgres_server`` and ``redis_server`` are those servers. See
  tests/servers.py.
- ``request_db_url``: the request database (``NAVIGATOR_DATABASE_URL``) of one test, which runs twice: on a new
  SQLite file, and (marked ``integration``) on PostgreSQL, in a database the test module's tests share, emptied
  before each test (``shared_request_database``).
- ``tracker_db_url``: Rasa's SQL tracker store (``NAVIGATOR_TRACKER_DB_URL``) of one test, the same way: a SQLite
  file not yet created, or a PostgreSQL database with Rasa's empty ``events`` table, shared by the module.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import MetaData

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # the Rasa servers the e2e tests start send nothing out
# The bot's own modules run inside the Rasa server, imported by bare name from bot/; those that import neither
# Rasa nor Sanic (signing, rendering, deduplication) are tested here the same way.
sys.path.append(str(Path(__file__).resolve().parent.parent / "bot"))

from index.build import build_index  # noqa: E402
from index.catalogue import load_catalogue  # noqa: E402
from index.engine import SearchEngine  # noqa: E402
from index.text import TextProcessor  # noqa: E402
from navigator.launcher import Stack, free_port, running  # noqa: E402
from navigator.settings import Settings  # noqa: E402
from support_requests.database import open_engine  # noqa: E402
from support_requests.store import RequestStore  # noqa: E402
from tests.channels.slack import payloads as slack_payloads  # noqa: E402
from tests.channels.slack.fake_slack import FakeSlack, slack_environment  # noqa: E402
from tests.channels.teams.fakes import FakeMicrosoft, SigningKeys, running_fake, teams_environment  # noqa: E402
from tests.fakes import SAMPLE, HashingEmbedder, write_catalogue  # noqa: E402
from tests.support_requests.helpers import events_table  # noqa: E402
from tests.servers import (PostgresServer, ServerError, SharedDatabase, redis_command, running_postgres,  # noqa: E402
                           running_redis)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"
STACK_START_TIMEOUT = 900.0
"""Seconds each process of a stack may take to answer: Rasa took over 420 s to load its model on a busy 2-core machine."""

STACK_LIMITS = {
    # The input guard's rate limits (bot/input_guard.py) for the session's assistant. Tests are faster than people:
    # every conversation of the suite fits in a burst of 30, and tests/e2e/test_input_limits.py can still exceed
    # it in a few seconds, with a token only every 10 s so that none grows back meanwhile. Every test talks from
    # 127.0.0.1, a trusted proxy here, so that the address limit (as high as it is) counts what X-Forwarded-For
    # names. A dropped message's answer is held back half a second (2 s by default).
    "NAVIGATOR_SENDER_RATE": "6/60",
    "NAVIGATOR_SENDER_BURST": "30",
    "NAVIGATOR_ADDRESS_RATE": "100000/60",
    "NAVIGATOR_ADDRESS_BURST": "100000",
    "NAVIGATOR_TRUSTED_PROXIES": "127.0.0.1",
    "NAVIGATOR_DROP_HOLD_SECONDS": "0.5",
}


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
def fake_slack() -> Iterator[FakeSlack]:
    """A local fake of Slack's Web API for the session (tests/channels/slack/fake_slack.py)."""
    with FakeSlack(slack_payloads.BOT_TOKEN).in_thread() as slack:
        yield slack


@pytest.fixture(scope="session")
def fake_microsoft() -> Iterator[FakeMicrosoft]:
    """Local fakes of Microsoft's login, OpenID metadata, signing keys and Bot Connector for the session
    (tests/channels/teams/fakes.py), signing with the key ``key-1``."""
    keys = SigningKeys()
    keys.add("key-1")
    with running_fake(FakeMicrosoft(keys)) as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_slack: FakeSlack,
          fake_microsoft: FakeMicrosoft) -> Iterator[tuple[Stack, Settings]]:
    """The Rasa server and the Navigator service on free ports, started once: yields ``(Stack, Settings)``.

    Both are real: the trained model (var/models/navigator.tar.gz), the real embedding model and index
    (var/index), and fresh SQLite request and tracker databases in a temporary folder. The Slack and Teams
    channels are on, talking to the session's fakes of Slack and Microsoft (``fake_slack``, ``fake_microsoft``),
    so that the end-to-end, browser and channel tests share one assistant. See :func:`started_stack`.
    """
    data = tmp_path_factory.mktemp("stack")
    channels = {**slack_environment(fake_slack), **teams_environment(fake_microsoft), **STACK_LIMITS}
    with started_stack(data, f"sqlite:///{data / 'requests.db'}", f"sqlite:///{data / 'tracker.db'}",
                       channels) as started:
        yield started


@contextlib.contextmanager
def started_stack(data: Path, database_url: str, tracker_db_url: str,
                  extra_environment: Mapping[str, str] | None = None) -> Iterator[tuple[Stack, Settings]]:
    """Start the Rasa server and the Navigator service on free ports; yields ``(Stack, Settings)``, stops both after.

    ``Stack`` has ``rasa_url`` and ``service_url`` (``http://127.0.0.1:PORT``), ``rest_webhook``, ``run_dir``
    (``data/run``, with service.log and rasa.log) and ``processes``. ``Settings`` are the service's settings:
    ``database_url`` and ``tracker_db_url`` are the given ones (Rasa's tracker store is configured from the
    latter), ``rasa_public_url`` is ``http://localhost:RASA_PORT`` (the address the chat widget connects to), the
    session key file is in ``data``; ``extra_environment`` adds settings (a channel's). The variables are also
    set in this process's environment while the stack runs, so that stores opened by a test see the same databases.
    """
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make model' (make test does it first)")
    rasa_port, service_port = free_port(), free_port()
    environment = {
        "NAVIGATOR_DATABASE_URL": database_url,
        "NAVIGATOR_TRACKER_DB_URL": tracker_db_url,
        "NAVIGATOR_RASA_PUBLIC_URL": f"http://localhost:{rasa_port}",
        "NAVIGATOR_SESSION_KEY_FILE": str(data / "session.key"),
        **(extra_environment or {}),
    }
    settings = Settings.from_env({**environment, "NAVIGATOR_INDEX_DIR": str(PROJECT_ROOT / "var" / "index")})
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        with running(settings, model=MODEL, rasa_port=rasa_port, service_port=service_port,
                     run_dir=data / "run", timeout=STACK_START_TIMEOUT) as started:
            yield started, settings


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


@pytest.fixture(scope="session")
def postgres_request_template(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a database with the request store's schema (every migration applied) and no rows, to copy."""
    with postgres_server.database() as url:
        RequestStore.from_url(url).close()
        yield url


@pytest.fixture(scope="module")
def shared_request_database(postgres_server: PostgresServer,
                            postgres_request_template: str) -> Iterator[SharedDatabase]:
    """A request database the tests of one module share: ``.fresh()`` gives its URL, emptied (or new when a test
    changed its schema), so that each test starts from the migrated schema with no rows."""
    shared = SharedDatabase(postgres_server, postgres_request_template)
    yield shared
    shared.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def request_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The request database of this test (``NAVIGATOR_DATABASE_URL``), with the store's schema and no rows.

    The test runs twice: on a new SQLite file below ``tmp_path``, and on PostgreSQL (marked ``integration``),
    in the module's shared database, emptied first (see ``shared_request_database``). On SQLite the schema
    appears when a store first opens the file.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'requests.db'}"
    return request.getfixturevalue("shared_request_database").fresh()


@pytest.fixture(scope="session")
def postgres_tracker_template(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a database with the table of Rasa's SQL tracker store (``events``) and no rows, to copy."""
    with postgres_server.database() as url:
        metadata = MetaData()
        events_table(metadata)
        engine = open_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def shared_tracker_database(postgres_server: PostgresServer,
                            postgres_tracker_template: str) -> Iterator[SharedDatabase]:
    """A tracker store the tests of one module share, emptied before each (see ``shared_request_database``)."""
    shared = SharedDatabase(postgres_server, postgres_tracker_template)
    yield shared
    shared.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def tracker_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Rasa's tracker store for this test (``NAVIGATOR_TRACKER_DB_URL``): the test runs on a SQLite file below
    ``tmp_path`` that does not exist yet, and on PostgreSQL (marked ``integration``), in the module's shared
    database, where Rasa's ``events`` table exists and is empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return request.getfixturevalue("shared_tracker_database").fresh()
