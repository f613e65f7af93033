"""The cluster of the fault tests: HAProxy, 2 Rasa servers and 2 Navigator services (navigator/cluster.py), started
once per test module on the session's throwaway PostgreSQL and Redis (tests/servers.py).

``cluster`` yields ``(Cluster, Settings)``. The request database starts migrated and empty, the tracker store with
Rasa's empty ``events`` table, Redis emptied; the services' mail server (``smtp_socket``) is down. Nothing calls the supervisor's ``check`` unless a test does, so a
process a test kills stays down until that test starts it again.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest

from navigator.cluster import Cluster, ClusterLayout, running_cluster
from navigator.settings import Settings
from tests.conftest import MODEL, PROJECT_ROOT, STACK_START_TIMEOUT
from tests.e2e.conftest import Conversation, ResponseNames
from tests.servers import PostgresServer, redis_command
from tests.support_requests.servers import refusing_port


@pytest.fixture(scope="module")
def smtp_socket() -> Iterator[socket.socket]:
    """The port of the cluster's mail server, bound and not listening: the server is down until a test starts
    one on this socket (``SmtpServer(sock=...)``)."""
    with refusing_port() as held:
        yield held


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, smtp_socket: socket.socket, postgres_server: PostgresServer,
            postgres_request_template: str, postgres_tracker_template: str,
            redis_server: str) -> Iterator[tuple[Cluster, Settings]]:
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make model' (make test does it first)")
    data = tmp_path_factory.mktemp("cluster")
    redis_command(redis_server, "FLUSHDB")
    layout = ClusterLayout.on_free_ports(rasa_servers=2, services=2)
    requests_url = postgres_server.create_database(template=postgres_request_template)
    tracker_url = postgres_server.create_database(template=postgres_tracker_template)
    try:
        environment = {
            "NAVIGATOR_DATABASE_URL": requests_url,
            "NAVIGATOR_TRACKER_DB_URL": tracker_url,
            "NAVIGATOR_REDIS_URL": redis_server,
            "NAVIGATOR_RASA_PUBLIC_URL": f"http://localhost:{layout.rasa_port}",
            "NAVIGATOR_SESSION_KEY_FILE": str(data / "session.key"),
            "NAVIGATOR_SMTP_HOST": "127.0.0.1",
            "NAVIGATOR_SMTP_PORT": str(smtp_socket.getsockname()[1]),
        }
        settings = Settings.from_env({**environment, "NAVIGATOR_INDEX_DIR": str(PROJECT_ROOT / "var" / "index")})
        previous = {key: os.environ.get(key) for key in environment}
        os.environ.update(environment)
        started = time.monotonic()
        try:
            with running_cluster(settings, model=MODEL, layout=layout, run_dir=data / "run",
                                 timeout=STACK_START_TIMEOUT, say=lambda line: None) as running:
                print(f"cluster started in {time.monotonic() - started:.0f} s")
                yield running, settings
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        postgres_server.drop_database(requests_url)
        postgres_server.drop_database(tracker_url)


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
