"""Throwaway PostgreSQL and Redis servers for the test session.

Each server runs from the machine's own binaries (Debian's ``postgresql`` and ``redis-server`` packages, which
``scripts/install-test-servers`` installs), on a free port of 127.0.0.1, with its data in a new temporary
folder that is removed when the server stops. A server that already runs is used instead only when a
variable names it: ``NAVIGATOR_TEST_DATABASE_URL`` (PostgreSQL) and ``NAVIGATOR_TEST_REDIS_URL``.

PostgreSQL refuses to run as root, so as root its programs run as an unprivileged user (``postgres`` when
Debian's package created it, else ``nobody``) that owns the data folder. The fixtures in tests/conftest.py
wrap these functions; nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

DATABASE_URL_VARIABLE = "NAVIGATOR_TEST_DATABASE_URL"
REDIS_URL_VARIABLE = "NAVIGATOR_TEST_REDIS_URL"
DEBIAN_POSTGRES_ROOT = Path("/usr/lib/postgresql")
START_TIMEOUT = 30.0
INSTALL_HINT = "run scripts/install-test-servers (make test does it first)"

# Durability is worthless for a throwaway server and costs most of the time of every commit and CREATE DATABASE.
POSTGRES_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                     "listen_addresses": "127.0.0.1", "max_connections": "200", "max_wal_size": "128MB"}
# Data in memory when the machine has room there: on a busy disk, CREATE DATABASE took 0.9 s instead of 0.04 s.
MEMORY_FOLDER = Path("/dev/shm")
MEMORY_FOLDER_MIN_FREE = 512 * 1024 * 1024


class ServerError(RuntimeError):
    """A test server could not be found, started or reached; the message says what to do."""


# -- PostgreSQL -----------------------------------------------------------------------------------------------


def find_postgres_bindir(path: str | None = None, debian_root: Path = DEBIAN_POSTGRES_ROOT) -> Path:
    """The folder with PostgreSQL's server programs (``initdb`` and ``postgres``).

    Args:
        path: the search path (default: ``PATH``); a ``pg_ctl`` or ``initdb`` on it wins, symbolic links
            resolved, when ``postgres`` sits beside it.
        debian_root: where Debian installs each major version as ``<version>/bin`` (not on ``PATH``); the
            newest version with both programs is used.

    Raises:
        ServerError: when neither place has them.
    """
    for program in ("initdb", "pg_ctl"):
        found = shutil.which(program, path=path)
        if found:
            folder = Path(os.path.realpath(found)).parent
            if _has_server_programs(folder):
                return folder
    versions = []
    for folder in debian_root.glob("*/bin"):
        version = _version_key(folder.parent.name)
        if version is not None and _has_server_programs(folder):
            versions.append((version, folder))
    if versions:
        return max(versions)[1]
    raise ServerError(f"PostgreSQL's server programs (initdb, postgres) are neither on PATH nor in "
                      f"{debian_root}/<version>/bin: {INSTALL_HINT}, "
                      f"or set {DATABASE_URL_VARIABLE} to a running server")


def _has_server_programs(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in ("initdb", "postgres"))


def _version_key(name: str) -> tuple[int, ...] | None:
    return tuple(int(part) for part in name.split(".")) if re.fullmatch(r"\d+(\.\d+)*", name) else None


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL server the tests may create databases on.

    ``url`` is a ``postgresql+psycopg://`` URL (SQLAlchemy's form, as ``NAVIGATOR_DATABASE_URL`` takes it) of a
    database to run ``CREATE DATABASE`` from, as a role allowed to; ``throwaway`` says whether the session
    started the server (and removes it).
    """

    url: str
    throwaway: bool

    def create_database(self, template: str | None = None) -> str:
        """Create a new database (named ``navigator_test_<hex>``). Returns its URL, same form as ``url``.

        Args:
            template: the URL of a database (made by this method) to copy, tables and rows; none: empty.
                Nobody may be connected to it while it is copied.
        """
        import psycopg

        name = f"navigator_test_{uuid.uuid4().hex[:12]}"
        source = database_name(template) if template is not None else "template0"
        with psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10) as connection:
            # From 15 on, the default strategy writes the template through the WAL: 8 times slower here.
            strategy = " STRATEGY FILE_COPY" if connection.info.server_version >= 150000 else ""
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" ENCODING \'UTF8\'{strategy}')
        return _replace_path(self.url, name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` (made by :meth:`create_database`), closing its open connections."""
        name = database_name(url)
        if not name.startswith("navigator_test_"):
            raise ValueError(f"refusing to drop '{name}': only databases made by create_database are dropped")
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new database for the duration of the block: yields its URL, drops it afterwards."""
        url = self.create_database()
        try:
            yield url
        finally:
            self.drop_database(url)

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10) as connection:
            connection.execute(statement)


class SharedDatabase:
    """One database that several tests use in turn, emptied between them: cheaper than a database per test.

    Each test asks :meth:`fresh` for it. The first time, and whenever the schema no longer is the template's
    (a test dropped or added a table) or the tables cannot be emptied (a connection still holds a lock), it is
    a new copy of ``template``; otherwise the same database with every table emptied and its sequences reset.
    So each test starts from the template's schema with no rows, as it would on a database of its own.

    Args:
        server: where the database lives.
        template: the URL of a database with the schema and no rows (see :meth:`PostgresServer.create_database`).
    """

    def __init__(self, server: PostgresServer, template: str):
        self.server = server
        self.template = template
        self.url: str | None = None
        self._schema = schema_of(template)

    def fresh(self) -> str:
        """The database's URL, emptied (or new): see the class."""
        if self.url is not None and not self._empty():
            self.server.drop_database(self.url)
            self.url = None
        if self.url is None:
            self.url = self.server.create_database(template=self.template)
        return self.url

    def drop(self) -> None:
        """Drop the database (a later :meth:`fresh` makes a new one)."""
        if self.url is not None:
            self.server.drop_database(self.url)
            self.url = None

    def _empty(self) -> bool:
        import psycopg

        if schema_of(self.url) != self._schema:
            return False
        tables = sorted({table for table, _, _ in self._schema} - {"alembic_version"})
        if not tables:
            return True
        try:
            with psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10) as connection:
                connection.execute("SET lock_timeout = '2s'")
                connection.execute(f"TRUNCATE {', '.join(f'public.{_quoted(t)}' for t in tables)} "
                                   f"RESTART IDENTITY CASCADE")
        except psycopg.errors.LockNotAvailable:
            return False
        return True


def schema_of(url: str) -> frozenset[tuple[str, str, str]]:
    """The (table, column, type) triples of the ``public`` schema of the database at ``url``."""
    import psycopg

    with psycopg.connect(libpq_url(url), connect_timeout=10) as connection:
        return frozenset(connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'").fetchall())


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def database_name(url: str) -> str:
    """The database name in ``url``."""
    return unquote(urlsplit(url).path.lstrip("/"))


def postgres_url_from_env(env: Mapping[str, str] = os.environ) -> str | None:
    """The running server named by ``NAVIGATOR_TEST_DATABASE_URL``, in ``postgresql+psycopg://`` form, or None."""
    value = env.get(DATABASE_URL_VARIABLE, "").strip()
    if not value:
        return None
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ServerError(f"{DATABASE_URL_VARIABLE} must be a PostgreSQL URL such as "
                          f"postgresql://postgres@127.0.0.1:5432/postgres, got '{value}'")
    return f"postgresql+psycopg://{rest}"


def libpq_url(url: str) -> str:
    """``url`` as libpq (psycopg) takes it: ``postgresql://`` without SQLAlchemy's driver name."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """The server named by ``NAVIGATOR_TEST_DATABASE_URL``, else a throwaway one for the duration of the block.

    Raises:
        ServerError: when the named server cannot be reached, or a throwaway one cannot be started.
    """
    named = postgres_url_from_env()
    if named is not None:
        import psycopg

        server = PostgresServer(named, throwaway=False)
        try:
            server._execute("SELECT 1")
        except psycopg.Error as error:
            raise ServerError(f"{DATABASE_URL_VARIABLE} names a server that cannot be used: {error}") from error
        yield server
        return
    with throwaway_postgres() as server:
        yield server


@contextlib.contextmanager
def throwaway_postgres(bindir: Path | None = None) -> Iterator[PostgresServer]:
    """Start a new PostgreSQL server (``initdb``, then ``postgres``) on a free port; stop it and delete its data.

    Superuser ``postgres``, trust authentication, listening on 127.0.0.1 only; its log is ``postgres.log`` in
    the data folder's parent (shown in the error when it fails to start).
    """
    bindir = bindir or find_postgres_bindir()
    owner = _unprivileged_owner()
    folder = scratch_folder("navigator-test-postgres-")
    try:
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        data = folder / "data"
        _run_as(owner, [str(bindir / "initdb"), "--pgdata", str(data), "--username", "postgres", "--auth", "trust",
                        "--encoding", "UTF8", "--locale", "C", "--no-sync"], cwd=folder)
        process, port = _start_until_bound(
            lambda port: [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
                          *(f"-c{name}={value}" for name, value in POSTGRES_SETTINGS.items())],
            folder / "postgres.log", owner, lambda port: _postgres_ready(folder, port))
        try:
            yield PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", throwaway=True)
        finally:
            _stop(process, signal.SIGINT)  # PostgreSQL's fast shutdown: disconnects clients, no checkpoint wait
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _postgres_ready(folder: Path, port: int) -> bool:
    """Whether our server accepts connections: asked through its own socket in ``folder``, so that another
    server that took the port cannot answer instead (ours creates the socket only once it has bound the port)."""
    import psycopg

    try:
        psycopg.connect(host=str(folder), port=port, user="postgres", dbname="postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


# -- Redis ----------------------------------------------------------------------------------------------------


def redis_url_from_env(env: Mapping[str, str] = os.environ) -> str | None:
    """The running server named by ``NAVIGATOR_TEST_REDIS_URL`` (``redis://[[user]:password@]host:port[/db]``)."""
    value = env.get(REDIS_URL_VARIABLE, "").strip()
    if not value:
        return None
    if not value.startswith("redis://"):
        raise ServerError(f"{REDIS_URL_VARIABLE} must be a URL such as redis://127.0.0.1:6379/0, got '{value}'")
    return value


@contextlib.contextmanager
def running_redis() -> Iterator[str]:
    """The URL of the server named by ``NAVIGATOR_TEST_REDIS_URL``, else of a throwaway one for the block."""
    named = redis_url_from_env()
    if named is not None:
        try:
            redis_command(named, "PING")
        except (OSError, RedisReplyError) as error:
            raise ServerError(f"{REDIS_URL_VARIABLE} names a server that cannot be used: {error}") from error
        yield named
        return
    with throwaway_redis() as url:
        yield url


@contextlib.contextmanager
def throwaway_redis(executable: str | None = None) -> Iterator[str]:
    """Start ``redis-server`` on a free port of 127.0.0.1, keeping nothing on disk; stop it and delete its folder.

    Yields its URL, ``redis://127.0.0.1:PORT/0``.
    """
    executable = executable or shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if not executable:
        raise ServerError(f"redis-server is not on PATH: {INSTALL_HINT}, "
                          f"or set {REDIS_URL_VARIABLE} to a running server")
    folder = scratch_folder("navigator-test-redis-")
    try:
        process, port = _start_until_bound(
            lambda port: [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", str(folder), "--daemonize", "no"],
            folder / "redis.log", None, lambda port: _redis_ready(f"redis://127.0.0.1:{port}/0", folder))
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(process, signal.SIGTERM)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class RedisReplyError(RuntimeError):
    """Redis answered a command with an error reply."""


def redis_command(url: str, *command: str, timeout: float = 5.0) -> bytes | int | list | None:
    """Send one command to the database of ``url`` (after AUTH and SELECT) and return its reply.

    A small RESP client, so that the fixtures need no Redis library: simple and bulk strings come back as bytes,
    integers as int, arrays as lists, a null as None.

    Raises:
        OSError: when the server cannot be reached.
        RedisReplyError: when the server answers with an error.
    """
    parts = urlsplit(url)
    preamble: list[tuple[str, ...]] = []
    if parts.password is not None:
        preamble.append(("AUTH", unquote(parts.username), unquote(parts.password)) if parts.username
                        else ("AUTH", unquote(parts.password)))
    database = parts.path.lstrip("/") or "0"
    preamble.append(("SELECT", database))
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as sock:
        stream = sock.makefile("rwb")
        reply = None
        for each in [*preamble, command]:
            stream.write(_encode_command(each))
            stream.flush()
            reply = _read_reply(stream)
        return reply


def _encode_command(command: tuple[str, ...]) -> bytes:
    encoded = [part.encode() for part in command]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded)


def _read_reply(stream) -> bytes | int | list | None:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("the Redis server closed the connection")
    kind, body = line[:1], line[1:-2]
    if kind == b"-":
        raise RedisReplyError(body.decode(errors="replace"))
    if kind == b"+":
        return body
    if kind == b":":
        return int(body)
    if kind == b"$":
        length = int(body)
        return None if length < 0 else stream.read(length + 2)[:-2]
    if kind == b"*":
        length = int(body)
        return None if length < 0 else [_read_reply(stream) for _ in range(length)]
    raise RedisReplyError(f"unexpected reply {line!r}")


def _redis_ready(url: str, folder: Path) -> bool:
    """Whether our server answers at ``url``: one whose data folder is ``folder``, not another that took the port."""
    try:
        return redis_command(url, "CONFIG", "GET", "dir", timeout=0.5) == [b"dir", str(folder).encode()]
    except (OSError, RedisReplyError):
        return False


# -- folders and processes ------------------------------------------------------------------------------------


def scratch_folder(prefix: str, memory: Path = MEMORY_FOLDER, min_free: int = MEMORY_FOLDER_MIN_FREE) -> Path:
    """A new private folder for a server's data: in ``memory`` (a tmpfs) when it has ``min_free`` bytes free,
    else in the temporary folder (``TMPDIR``). Not under pytest's own, which a dropped-to user cannot enter.

    The folder records the test process's id in ``owner.pid``; folders with the same prefix whose process is gone
    (a killed run could not remove them) are removed first.
    """
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        stats = os.statvfs(memory)
        if stats.f_bavail * stats.f_frsize >= min_free and os.access(memory, os.W_OK | os.X_OK):
            base = memory
    for stale in base.glob(f"{prefix}*"):
        if not _owner_alive(stale):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    (folder / "owner.pid").write_text(str(os.getpid()))
    return folder


def _owner_alive(folder: Path) -> bool:
    """False only when ``folder/owner.pid`` names a process that no longer exists."""
    try:
        os.kill(int((folder / "owner.pid").read_text()), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True  # no readable owner (not ours, or being written) or a process we may not signal
    return True


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago (the server binds it itself: see _start_until_bound)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_until_bound(command_for_port, log: Path, owner: pwd.struct_passwd | None, ready,
                       attempts: int = 3) -> tuple[subprocess.Popen, int]:
    """Start the server on a free port and wait until ``ready(port)``; another port when it lost the race for one."""
    for attempt in range(1, attempts + 1):
        port = free_port()
        with open(log, "ab") as output:
            process = _spawn(owner, command_for_port(port), output, cwd=log.parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if ready(port):
                return process, port
            time.sleep(0.05)
        _stop(process, signal.SIGTERM)
        text = log.read_text(errors="replace")
        if attempt < attempts and re.search(r"[Aa]ddress already in use", text):
            continue
        raise ServerError(f"{command_for_port(port)[0]} did not start within {START_TIMEOUT:.0f} s; "
                          f"its log:\n{text[-3000:]}")
    raise AssertionError("unreachable")


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as when the tests run as root (it refuses root); None when they do not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


def _spawn(owner: pwd.struct_passwd | None, command: list[str], output, cwd: Path) -> subprocess.Popen:
    """Start ``command`` (as ``owner`` when given), in its own session, killed with the test process."""
    credentials = {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "LC_ALL": "C"}
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=cwd,
                            env=environment, start_new_session=True, preexec_fn=_die_with_parent, **credentials)


def _run_as(owner: pwd.struct_passwd | None, command: list[str], cwd: Path) -> None:
    with open(cwd / "initdb.log", "wb") as output:
        process = _spawn(owner, command, output, cwd)
        if process.wait(timeout=120) != 0:
            raise ServerError(f"{' '.join(command)} failed:\n{(cwd / 'initdb.log').read_text(errors='replace')}")


PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None).prctl if sys.platform == "linux" else None  # looked up here, not in the forked child


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the test process dies, so that a killed run leaves no server behind.

    Runs after the switch of user, which would otherwise clear the setting.
    """
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen, how: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _replace_path(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))
