"""PostgreSQL and Redis servers that a test can stop and start again on the same port, with the same data, as an
operator restarts them: the cluster's fault tests need them (tests/servers.py's servers cannot be restarted).

Both run from the machine's programs (scripts/install-test-servers), on 127.0.0.1, with their data in a scratch
folder removed at the end; PostgreSQL runs as an unprivileged user when the tests run as root.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time

from tests.servers import (
    INSTALL_HINT,
    POSTGRES_SETTINGS,
    ServerError,
    _run_as,
    _spawn,
    _stop,
    _unprivileged_owner,
    find_postgres_bindir,
    free_port,
    scratch_folder,
)

READY_TIMEOUT = 30.0


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class RestartableServer:
    """A server process on a fixed port: :meth:`stop`, :meth:`start`, :meth:`restart` and :meth:`close`."""

    def __init__(self, prefix: str):
        self.folder = scratch_folder(prefix)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    owner = None
    stop_signal = signal.SIGTERM

    def start(self) -> None:
        with open(self.folder / "server.log", "ab") as log:
            self.process = _spawn(self.owner, self.command(), log, cwd=self.folder)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"{self.command()[0]} did not start; see {self.folder / 'server.log'}")
            time.sleep(0.05)

    def ready(self) -> bool:
        return _listening(self.port)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, self.stop_signal)

    def restart(self, down_seconds: float = 0.0) -> float:
        """Stop, wait ``down_seconds``, start again; returns the seconds the server was away."""
        started = time.monotonic()
        self.stop()
        time.sleep(down_seconds)
        self.start()
        return time.monotonic() - started

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class RestartableRedis(RestartableServer):
    """redis-server keeping nothing on disk: a restart loses every key, as a restart of a cache without
    persistence does."""

    def __init__(self):
        self.executable = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
        if not self.executable:
            raise ServerError(f"redis-server is not on PATH: {INSTALL_HINT}")
        super().__init__("navigator-cluster-redis-")

    def command(self) -> list[str]:
        return [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                "no", "--dir", str(self.folder), "--daemonize", "no"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class RestartablePostgres(RestartableServer):
    """PostgreSQL (superuser ``postgres``, trust authentication); a restart keeps the data (fast shutdown)."""

    stop_signal = signal.SIGINT

    def __init__(self):
        self.bindir = find_postgres_bindir()
        super().__init__("navigator-cluster-postgres-")
        self.owner = _unprivileged_owner()
        if self.owner is not None:
            import os

            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)
        self.data = self.folder / "data"
        _run_as(self.owner, [str(self.bindir / "initdb"), "--pgdata", str(self.data), "--username", "postgres",
                             "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync"], cwd=self.folder)

    def command(self) -> list[str]:
        return [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
                *(f"-c{name}={value}" for name, value in POSTGRES_SETTINGS.items())]

    def ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(host=str(self.folder), port=self.port, user="postgres", dbname="postgres",
                            connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its ``postgresql+psycopg://`` URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


