"""API tokens: the store (only hashes kept, revocation, last use) and ``navigator tokens ...``.

Each test runs on SQLite and on PostgreSQL (``request_db_url`` in tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator import cli
from support_requests.store import RequestStore
from support_requests.tables import ApiTokenRow
from support_requests.tokens import TokenInputError, TokenRole, TokenStore


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def request_store(request_db_url: str):
    with RequestStore.from_url(request_db_url) as store:
        yield store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(request_store: RequestStore, clock: Clock) -> TokenStore:
    return TokenStore(request_store.engine, clock=clock)


def rows(store: TokenStore) -> list[ApiTokenRow]:
    with Session(store.engine) as session:
        return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name)))


def test_a_created_token_is_returned_once_and_only_its_hash_is_stored(tokens: TokenStore) -> None:
    token = tokens.create("crm-sync", "reader")
    assert token.startswith("nav_") and len(token) == 4 + 43
    [row] = rows(tokens)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.name, row.token_hash, row.role)
    assert tokens.create("other", "reader") != token


def test_verify_returns_the_name_and_role(tokens: TokenStore, clock: Clock) -> None:
    token = tokens.create("crm-sync", TokenRole.ADVISOR)
    info = tokens.verify(token)
    assert info is not None and (info.name, info.role, info.actor) == ("crm-sync", TokenRole.ADVISOR,
                                                                       "token:crm-sync")
    assert info.created_at == clock.now and info.active


@pytest.mark.parametrize("wrong", ["", "nav_", "nav_unknown", "Bearer x", "x" * 500, None, "nav_" + "a" * 300])
def test_unknown_and_malformed_tokens_fail(tokens: TokenStore, wrong) -> None:
    tokens.create("crm-sync", "reader")
    assert tokens.verify(wrong) is None


def test_a_revoked_token_fails_and_keeps_its_name(tokens: TokenStore, clock: Clock) -> None:
    token = tokens.create("crm-sync", "advisor")
    clock.advance(hours=1)
    revoked = tokens.revoke("crm-sync")
    assert revoked.revoked_at == clock.now and not revoked.active
    assert tokens.verify(token) is None
    clock.advance(hours=1)
    assert tokens.revoke("crm-sync").revoked_at == revoked.revoked_at  # revoking twice changes nothing
    with pytest.raises(TokenInputError, match="already exists"):
        tokens.create("crm-sync", "advisor")


def test_last_use_is_recorded_at_most_once_a_minute(tokens: TokenStore, clock: Clock) -> None:
    token = tokens.create("crm-sync", "reader")
    assert rows(tokens)[0].last_used_at is None
    first = clock.now
    tokens.verify(token)
    clock.advance(seconds=59)
    assert tokens.verify(token).last_used_at == first
    assert rows(tokens)[0].last_used_at == first
    clock.advance(seconds=1)
    tokens.verify(token)
    assert rows(tokens)[0].last_used_at == first + dt.timedelta(minutes=1)


@pytest.mark.parametrize(("name", "role", "message"), [
    ("", "reader", "token name"),
    ("-starts-with-dash", "reader", "token name"),
    ("has space", "reader", "token name"),
    ("x" * 121, "reader", "token name"),
    ("fine", "admin", "unknown role 'admin'; use one of: reader, advisor"),
])
def test_bad_names_and_roles_are_refused(tokens: TokenStore, name: str, role: str, message: str) -> None:
    with pytest.raises(TokenInputError, match=message):
        tokens.create(name, role)
    assert rows(tokens) == []


def test_revoking_an_unknown_name_says_so(tokens: TokenStore) -> None:
    with pytest.raises(TokenInputError, match="no token named 'ghost'"):
        tokens.revoke("ghost")


def test_list_is_sorted_by_name_and_shows_state(tokens: TokenStore) -> None:
    tokens.create("zeta", "reader")
    tokens.create("alpha", "advisor")
    tokens.revoke("zeta")
    listed = tokens.list()
    assert [(t.name, t.role.value, t.active) for t in listed] == [("alpha", "advisor", True),
                                                                  ("zeta", "reader", False)]


def test_the_advisor_role_includes_the_reader_role() -> None:
    assert TokenRole.ADVISOR.includes(TokenRole.READER) and TokenRole.ADVISOR.includes(TokenRole.ADVISOR)
    assert TokenRole.READER.includes(TokenRole.READER) and not TokenRole.READER.includes(TokenRole.ADVISOR)


# -- the command line ----------------------------------------------------------------------------------------


@pytest.fixture
def db(request_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", request_db_url)
    return request_db_url


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(["tokens", *args])
    except SystemExit as exit_:  # argparse refuses the command line
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_prints_the_token_once_with_a_warning(db: str, capsys) -> None:
    code, out, err = run(capsys, "add", "crm-sync", "--role", "advisor")
    token = out.strip()
    assert code == 0 and token.startswith("nav_") and out.count("\n") == 1
    assert "shown only this once" in err and token not in err
    with RequestStore.from_url(db) as store:
        info = TokenStore(store.engine).verify(token)
    assert info is not None and info.role is TokenRole.ADVISOR
    code, out, _ = run(capsys, "list")
    assert code == 0 and out.startswith("crm-sync  advisor") and "last used" in out and "active" in out
    assert token not in out


def test_cli_revoke_stops_the_token(db: str, capsys) -> None:
    _, out, _ = run(capsys, "add", "crm-sync", "--role", "reader")
    token = out.strip()
    code, out, _ = run(capsys, "revoke", "crm-sync")
    assert code == 0 and out.startswith("revoked the token 'crm-sync' (reader)")
    with RequestStore.from_url(db) as store:
        assert TokenStore(store.engine).verify(token) is None
    assert "revoked" in run(capsys, "list")[1]


def test_cli_list_without_tokens(db: str, capsys) -> None:
    assert run(capsys, "list")[:2] == (0, "no API tokens\n")


@pytest.mark.parametrize(("args", "message"), [
    (("add", "crm-sync"), "the following arguments are required: --role"),
    (("add", "crm-sync", "--role", "admin"), "invalid choice: 'admin'"),
    (("add", "bad name", "--role", "reader"), "a token name is 1 to 120"),
    (("revoke", "ghost"), "no token named 'ghost'"),
])
def test_cli_bad_input_exits_2_with_a_message(db: str, capsys, args: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and message in err and out == ""


def test_cli_a_taken_name_exits_2_and_changes_nothing(db: str, capsys) -> None:
    _, first, _ = run(capsys, "add", "crm-sync", "--role", "reader")
    code, out, err = run(capsys, "add", "crm-sync", "--role", "advisor")
    assert code == 2 and out == "" and "already exists" in err
    with RequestStore.from_url(db) as store:
        listed = TokenStore(store.engine).list()
        assert [(t.name, t.role.value) for t in listed] == [("crm-sync", "reader")]
        assert TokenStore(store.engine).verify(first.strip()) is not None
