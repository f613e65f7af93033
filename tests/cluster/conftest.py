"""The cluster of the fault tests: HAProxy, 2 Rasa servers and 2 Navigator services (navigator/cluster.py), started
once per test module on a throwaway PostgreSQL and Redis of its own, which tests may restart
(tests/cluster/restartable.py).

``cluster`` yields ``(Cluster, Settings)``. The request database starts migrated and empty, the tracker store with
Rasa's empty ``events`` table, Redis empty; the services' mail server (``smtp_socket``) is down. Nothing calls the
supervisor's ``check`` unless a test does, so a process a test kills stays down until that test starts it again.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import MetaData

from navigator.cluster import Cluster, ClusterLayout, running_cluster
from navigator.settings import Settings
from support_requests.database import open_engine
from support_requests.store import RequestStore
from tests.cluster.restartable import (
    RestartablePostgres,
    RestartableRedis,
    RestartableServer,
)
from tests.conftest import MODEL, PROJECT_ROOT, STACK_START_TIMEOUT
from tests.e2e.conftest import Conversation, ResponseNames
from tests.servers import ServerError
from tests.support_requests.helpers import events_table
from tests.support_requests.servers import refusing_port


@pytest.fixture(scope="module")
def smtp_socket() -> Iterator[socket.socket]:
    """The port of the cluster's mail server, bound and not listening: the server is down until a test starts
    one on this socket (``SmtpServer(sock=...)``)."""
    with refusing_port() as held:
        yield held


def _serving(server_class: type[RestartableServer]) -> Iterator[RestartableServer]:
    try:
        server = server_class()
        server.start()
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def cluster_postgres() -> Iterator[RestartablePostgres]:
    """The cluster's PostgreSQL, which a test may restart (tests/cluster/restartable.py)."""
    yield from _serving(RestartablePostgres)


@pytest.fixture(scope="module")
def cluster_redis() -> Iterator[RestartableRedis]:
    """The cluster's Redis, which a test may restart."""
    yield from _serving(RestartableRedis)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, smtp_socket: socket.socket,
            cluster_postgres: RestartablePostgres, cluster_redis: RestartableRedis,
            ) -> Iterator[tuple[Cluster, Settings]]:
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make model' (make test does it first)")
    data = tmp_path_factory.mktemp("cluster")
    layout = ClusterLayout.on_free_ports(rasa_servers=2, services=2)
    requests_url = cluster_postgres.create_database("requests")
    RequestStore.from_url(requests_url).close()  # migrated once, not by both services at once
    tracker_url = cluster_postgres.create_database("tracker")
    metadata = MetaData()
    events_table(metadata)
    engine = open_engine(tracker_url)
    metadata.create_all(engine)  # Rasa's table, not created by both Rasa servers at once
    engine.dispose()
    environment = {
        "NAVIGATOR_DATABASE_URL": requests_url,
        "NAVIGATOR_TRACKER_DB_URL": tracker_url,
        "NAVIGATOR_REDIS_URL": cluster_redis.url,
        "NAVIGATOR_RASA_PUBLIC_URL": f"http://localhost:{layout.rasa_port}",
        "NAVIGATOR_SESSION_KEY_FILE": str(data / "session.key"),
        "NAVIGATOR_SMTP_HOST": "127.0.0.1",
        "NAVIGATOR_SMTP_PORT": str(smtp_socket.getsockname()[1]),
        # The load comes from this machine, faster than any client may send; the limits stay on, in Redis.
        "NAVIGATOR_SENDER_RATE": "100000/60", "NAVIGATOR_SENDER_BURST": "100000",
        "NAVIGATOR_ADDRESS_RATE": "100000/60", "NAVIGATOR_ADDRESS_BURST": "100000",
    }
    settings = Settings.from_env({**environment, "NAVIGATOR_INDEX_DIR": str(PROJECT_ROOT / "var" / "index")})
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        started = time.monotonic()
        with running_cluster(settings, model=MODEL, layout=layout, run_dir=data / "run",
                             timeout=STACK_START_TIMEOUT, say=lambda line: None) as running:
            print(f"cluster started in {time.monotonic() - started:.0f} s")
            yield running, settings


@pytest.fixture(scope="session")
def names() -> ResponseNames:
    return ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


def conversation(cluster: Cluster, names: ResponseNames, sender: str | None = None) -> Conversation:
    """A user talking to the cluster through HAProxy's Rasa frontend."""
    return Conversation(cluster, names) if sender is None else Conversation(cluster, names, sender)


def backend_conversation(url: str, names: ResponseNames, sender: str) -> Conversation:
    """A user talking to one Rasa server directly (``url`` is its ``http://HOST:PORT``)."""

    class Direct:
        rest_webhook = f"{url}/webhooks/rest/webhook"

    return Conversation(Direct(), names, sender)
