"""The test servers (tests/servers.py): finding PostgreSQL, the fixtures' isolation, the variables, the clean-up."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests import servers
from tests.servers import (
    DATABASE_URL_VARIABLE,
    REDIS_URL_VARIABLE,
    PostgresServer,
    RedisReplyError,
    ServerError,
    SharedDatabase,
    find_postgres_bindir,
    libpq_url,
    postgres_url_from_env,
    redis_command,
    redis_url_from_env,
    running_postgres,
    running_redis,
    scratch_folder,
    throwaway_postgres,
    throwaway_redis,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def fake_bindir(folder: Path, programs: tuple[str, ...] = ("initdb", "postgres", "pg_ctl")) -> Path:
    folder.mkdir(parents=True)
    for name in programs:
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(stat.S_IRWXU)
    return folder


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


# -- finding PostgreSQL ---------------------------------------------------------------------------------------


def test_the_newest_complete_debian_version_is_found(tmp_path: Path) -> None:
    root = tmp_path / "postgresql"
    fake_bindir(root / "9.6" / "bin")
    newest_complete = fake_bindir(root / "15" / "bin")
    fake_bindir(root / "16" / "bin", programs=("pg_ctl", "initdb"))  # a client-only install: no server
    fake_bindir(root / "common" / "bin")
    assert find_postgres_bindir(path=str(tmp_path / "empty"), debian_root=root) == newest_complete


def test_programs_on_the_path_win_with_links_resolved(tmp_path: Path) -> None:
    fake_bindir(tmp_path / "postgresql" / "15" / "bin")
    real = fake_bindir(tmp_path / "opt" / "pg17" / "bin")
    on_path = tmp_path / "local-bin"
    on_path.mkdir()
    (on_path / "pg_ctl").symlink_to(real / "pg_ctl")
    assert find_postgres_bindir(path=str(on_path), debian_root=tmp_path / "postgresql") == real


def test_missing_programs_say_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="scripts/install-test-servers") as caught:
        find_postgres_bindir(path=str(tmp_path), debian_root=tmp_path / "postgresql")
    assert DATABASE_URL_VARIABLE in str(caught.value)


# -- the variables --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["postgres://u@db:5432/x", "postgresql://u@db:5432/x",
                                   "postgresql+psycopg://u@db:5432/x", "  postgresql://u@db:5432/x\n"])
def test_the_database_variable_takes_any_postgresql_scheme(value: str) -> None:
    assert postgres_url_from_env({DATABASE_URL_VARIABLE: value}) == "postgresql+psycopg://u@db:5432/x"


def test_unset_variables_mean_throwaway_servers() -> None:
    assert postgres_url_from_env({}) is None and redis_url_from_env({DATABASE_URL_VARIABLE: "x"}) is None
    assert postgres_url_from_env({DATABASE_URL_VARIABLE: " "}) is None


@pytest.mark.parametrize("reader, variable, value", [
    (postgres_url_from_env, DATABASE_URL_VARIABLE, "mysql://root@db/x"),
    (postgres_url_from_env, DATABASE_URL_VARIABLE, "127.0.0.1:5432"),
    (redis_url_from_env, REDIS_URL_VARIABLE, "http://127.0.0.1:6379"),
])
def test_a_variable_that_is_not_a_url_of_its_server_is_refused_by_name(reader, variable: str, value: str) -> None:
    with pytest.raises(ServerError, match=variable):
        reader({variable: value})


def test_an_unreachable_named_postgresql_is_an_error_not_a_throwaway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(ServerError, match=DATABASE_URL_VARIABLE):
        with running_postgres():
            pass


def test_an_unreachable_named_redis_is_an_error_not_a_throwaway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REDIS_URL_VARIABLE, "redis://127.0.0.1:1/0")
    with pytest.raises(ServerError, match=REDIS_URL_VARIABLE):
        with running_redis():
            pass


@pytest.mark.integration
def test_a_named_postgresql_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer) -> None:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, libpq_url(postgres_server.url))
    with running_postgres() as named:
        assert named == PostgresServer(postgres_server.url, throwaway=False)


@pytest.mark.integration
def test_a_named_redis_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, redis_server: str) -> None:
    monkeypatch.setenv(REDIS_URL_VARIABLE, redis_server)
    with running_redis() as named:
        assert named == redis_server


# -- the fixtures ---------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_each_postgresql_test_gets_its_own_empty_database(postgres_server: PostgresServer, postgres_url: str) -> None:
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
        assert connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
        connection.execute("CREATE TABLE mine (id int)")
    with postgres_server.database() as other:
        assert other != postgres_url
        with psycopg.connect(libpq_url(other)) as connection:
            assert connection.execute("SELECT to_regclass('mine')").fetchone() == (None,)
    name = other.rsplit("/", 1)[1]
    with psycopg.connect(libpq_url(postgres_server.url)) as connection:
        assert connection.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone() == (0,)


@pytest.mark.integration
def test_a_database_is_dropped_even_with_connections_left_open(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    forgotten = psycopg.connect(libpq_url(url))
    postgres_server.drop_database(url)
    with pytest.raises(psycopg.OperationalError):
        forgotten.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq_url(url)).close()


@pytest.mark.integration
def test_a_shared_database_is_emptied_between_tests_and_renewed_when_it_cannot_be(
        postgres_server: PostgresServer) -> None:
    def exists(url: str) -> bool:
        with psycopg.connect(libpq_url(postgres_server.url)) as connection:
            return connection.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                                      [url.rsplit("/", 1)[1]]).fetchone() == (1,)

    with postgres_server.database() as template:
        with psycopg.connect(libpq_url(template), autocommit=True) as connection:
            connection.execute("CREATE TABLE items (id serial PRIMARY KEY, name text)")
        shared = SharedDatabase(postgres_server, template)
        try:
            first = shared.fresh()
            with psycopg.connect(libpq_url(first), autocommit=True) as connection:
                connection.execute("INSERT INTO items (name) VALUES ('a'), ('b')")
            assert shared.fresh() == first  # the same database, emptied, its ids counting from 1 again
            with psycopg.connect(libpq_url(first), autocommit=True) as connection:
                assert connection.execute("SELECT count(*) FROM items").fetchone() == (0,)
                assert connection.execute("INSERT INTO items (name) VALUES ('c') RETURNING id").fetchone() == (1,)
                connection.execute("DROP TABLE items")  # a test that changes the schema
            renewed = shared.fresh()
            assert renewed != first and not exists(first)
            held = psycopg.connect(libpq_url(renewed))  # a connection left inside a transaction, holding a lock
            held.execute("LOCK TABLE items")
            again = shared.fresh()
            assert again != renewed and not exists(renewed)
            with psycopg.connect(libpq_url(again)) as connection:
                assert connection.execute("SELECT count(*) FROM items").fetchone() == (0,)
            held.close()
        finally:
            shared.drop()
        assert not exists(again)
        with psycopg.connect(libpq_url(template)) as connection:  # the template is never touched
            assert connection.execute("SELECT count(*) FROM items").fetchone() == (0,)


def test_only_test_databases_are_ever_dropped() -> None:
    with pytest.raises(ValueError, match="refusing"):
        PostgresServer("postgresql+psycopg://postgres@127.0.0.1:1/postgres", throwaway=True).drop_database(
            "postgresql+psycopg://postgres@127.0.0.1:1/navigator")


@pytest.mark.integration
@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_redis_test_starts_with_an_empty_database(redis_url: str, turn: str) -> None:
    # Whichever of the two runs second would see the other's key if the fixture did not empty the database.
    assert redis_command(redis_url, "DBSIZE") == 0
    assert redis_command(redis_url, "SET", "left-behind", turn) == b"OK"


# -- starting and stopping ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_a_throwaway_postgresql_runs_unprivileged_and_leaves_nothing_behind() -> None:
    with throwaway_postgres() as server:
        assert server.throwaway
        with psycopg.connect(libpq_url(server.url)) as connection:
            data = Path(connection.execute("SHOW data_directory").fetchone()[0])
            assert connection.execute("SHOW fsync").fetchone() == ("off",)
        if os.geteuid() == 0:
            assert pwd.getpwuid(data.stat().st_uid).pw_name in ("postgres", "nobody")
        port = port_of(server.url)
    assert not data.parent.exists()
    assert not accepts_connections(port)


@pytest.mark.integration
def test_a_throwaway_redis_keeps_nothing_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    folders: list[Path] = []
    monkeypatch.setattr(servers, "scratch_folder", lambda prefix: folders.append(scratch_folder(prefix)) or folders[-1])
    with throwaway_redis() as url:
        assert redis_command(url, "SET", "k", "v") == b"OK" and redis_command(url, "GET", "k") == b"v"
        assert redis_command(url, "CONFIG", "GET", "save") == [b"save", b""]
        assert redis_command(url, "CONFIG", "GET", "dir") == [b"dir", str(folders[0]).encode()]
    assert not accepts_connections(port_of(url))
    assert not folders[0].exists()


@pytest.mark.integration
def test_a_port_taken_between_choosing_and_binding_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = [taken.getsockname()[1], servers.free_port()]
    monkeypatch.setattr(servers, "free_port", lambda: ports.pop(0))
    try:
        with throwaway_redis() as url:
            assert port_of(url) != taken.getsockname()[1]
            assert redis_command(url, "PING") == b"PONG"
    finally:
        taken.close()
    assert ports == []


@pytest.mark.integration
def test_servers_die_with_a_killed_test_process() -> None:
    script = ("import time\nfrom tests.servers import throwaway_redis\n"
              "with throwaway_redis() as url:\n    print(url, flush=True)\n    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = parent.stdout.readline().strip()
        [_, folder] = redis_command(url, "CONFIG", "GET", "dir")
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    try:
        deadline = time.monotonic() + 10
        while accepts_connections(port_of(url)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not accepts_connections(port_of(url))
    finally:
        shutil.rmtree(folder.decode())  # the killed process could not remove it


@pytest.mark.integration
def test_error_replies_from_redis_are_raised(redis_server: str) -> None:
    with pytest.raises(RedisReplyError, match="unknown command"):
        redis_command(redis_server, "NO-SUCH-COMMAND")


def test_scratch_folders_go_to_memory_only_when_it_has_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory, elsewhere = tmp_path / "memory", tmp_path / "elsewhere"
    memory.mkdir()
    elsewhere.mkdir()
    monkeypatch.setattr(servers.tempfile, "tempdir", str(elsewhere))
    roomy = scratch_folder("x-", memory=memory, min_free=1)
    cramped = scratch_folder("x-", memory=memory, min_free=2**62)
    missing = scratch_folder("x-", memory=tmp_path / "no-such-folder", min_free=1)
    assert (roomy.parent, cramped.parent, missing.parent) == (memory, elsewhere, elsewhere)
    assert stat.S_IMODE(roomy.stat().st_mode) == 0o700


def test_folders_left_by_a_killed_run_are_removed_and_no_others(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    stale, running, foreign, other_prefix = (tmp_path / name for name in ("x-stale", "x-running", "x-foreign",
                                                                            "y-stale"))
    for folder, owner in ((stale, finished.pid), (running, os.getpid()), (foreign, None), (other_prefix, finished.pid)):
        folder.mkdir()
        if owner is not None:
            (folder / "owner.pid").write_text(str(owner))
    new = scratch_folder("x-", memory=tmp_path, min_free=1)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["x-running", "x-foreign", "y-stale", new.name])
    assert (new / "owner.pid").read_text() == str(os.getpid())
