"""Advisor accounts: hashing, sign-in, lock-out with a fake clock, unknown users, administration; the session key.

The account store's tests run on SQLite and on PostgreSQL (``request_db_url`` in tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import select

from navigator.settings import Settings, SettingsError
from support_requests.store import RequestStore
from support_requests.tables import AdvisorRow
from tests.web.conftest import FAST_HASHER, PASSWORD
from support_requests.accounts import (
    SIGNIN_REFUSED_MESSAGE,
    AccountNotFoundError,
    AccountStore,
    AccountValidationError,
    Advisor,
    DuplicateAccountError,
    SignInRefusedError,
)
from navigator.session_key import session_key


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def store(request_db_url: str):
    with RequestStore.from_url(request_db_url) as opened:
        yield opened


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(store: RequestStore, clock: FakeClock) -> AccountStore:
    return AccountStore(store.engine, clock=clock, hasher=FAST_HASHER, max_failures=3,
                        lockout=dt.timedelta(minutes=15))


def stored_hash(store: RequestStore, username: str) -> str:
    with store.engine.connect() as connection:
        return connection.execute(select(AdvisorRow.password_hash).where(AdvisorRow.username == username)).scalar_one()


def test_add_stores_an_argon2_hash_never_the_password(accounts: AccountStore, store: RequestStore) -> None:
    advisor = accounts.add("eva.ek", "  Eva Ek ", PASSWORD, "admin")
    assert advisor == Advisor("eva.ek", "Eva Ek", "admin", True) and advisor.is_admin
    password_hash = stored_hash(store, "eva.ek")
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash


def test_the_right_password_signs_in_and_records_the_time(accounts: AccountStore, clock: FakeClock) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    state = accounts.authenticate(" EVA ", PASSWORD)
    assert state.advisor.username == "eva" and state.last_signin_at == clock.now and state.failed_signins == 0


@pytest.mark.parametrize(("username", "name", "password", "role", "field"), [
    ("ev", "Eva Ek", PASSWORD, "advisor", "username"),
    ("Eva", "Eva Ek", PASSWORD, "advisor", "username"),
    ("eva ek", "Eva Ek", PASSWORD, "advisor", "username"),
    ("e" * 65, "Eva Ek", PASSWORD, "advisor", "username"),
    ("eva", "   ", PASSWORD, "advisor", "display name"),
    ("eva", "Eva\nEk", PASSWORD, "advisor", "display name"),
    ("eva", "Eva Ek", "short pass", "advisor", "password"),
    ("eva", "Eva Ek", "x" * 1025, "advisor", "password"),
    ("eva", "Eva Ek", PASSWORD, "root", "role"),
])
def test_bad_account_values_are_refused_and_nothing_is_stored(accounts: AccountStore, username, name, password,
                                                              role, field) -> None:
    with pytest.raises(AccountValidationError) as refused:
        accounts.add(username, name, password, role)
    assert refused.value.field == field and password not in str(refused.value)
    assert accounts.list() == []


def test_a_taken_username_is_refused(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    with pytest.raises(DuplicateAccountError, match="exists already"):
        accounts.add("eva", "Another Eva", PASSWORD)
    assert [state.advisor.display_name for state in accounts.list()] == ["Eva Ek"]


def test_every_refusal_has_the_same_message(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    accounts.add("olle", "Olle Berg", PASSWORD)
    accounts.disable("olle")
    causes = []
    for username, password in [("nobody", PASSWORD), ("eva", "wrong password!"), ("olle", PASSWORD),
                               ("", ""), ("EVA" * 40, PASSWORD)]:
        with pytest.raises(SignInRefusedError) as refused:
            accounts.authenticate(username, password)
        assert str(refused.value) == SIGNIN_REFUSED_MESSAGE
        causes.append(refused.value.cause)
    assert causes == ["unknown", "wrong_password", "disabled", "unknown", "unknown"]


class RecordingHasher(PasswordHasher):
    """Cheap parameters, and it remembers which hashes it verified against."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_an_unknown_username_is_checked_against_a_dummy_hash(store: RequestStore, clock: FakeClock) -> None:
    hasher = RecordingHasher()
    accounts = AccountStore(store.engine, clock=clock, hasher=hasher)
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("nobody", PASSWORD)
    assert len(hasher.verified) == 1 and hasher.verified[0].startswith("$argon2id$")


def test_lock_out_after_repeated_failures_then_the_right_password_works_again(accounts: AccountStore,
                                                                             clock: FakeClock) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    for _ in range(3):
        with pytest.raises(SignInRefusedError):
            accounts.authenticate("eva", "wrong password!")
    state = accounts.get("eva")
    assert state.failed_signins == 3 and state.locked_until == clock.now + dt.timedelta(minutes=15)
    clock.advance(minutes=14)
    with pytest.raises(SignInRefusedError) as refused:
        accounts.authenticate("eva", PASSWORD)  # locked: even the right password is refused
    assert refused.value.cause == "locked" and accounts.get("eva").failed_signins == 3
    clock.advance(minutes=1, seconds=1)
    assert accounts.authenticate("eva", PASSWORD).failed_signins == 0
    assert accounts.get("eva").locked_until is None


def test_after_a_lock_runs_out_the_next_failure_locks_again(accounts: AccountStore, clock: FakeClock) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    for _ in range(3):
        with pytest.raises(SignInRefusedError):
            accounts.authenticate("eva", "wrong password!")
    clock.advance(minutes=16)
    with pytest.raises(SignInRefusedError) as refused:
        accounts.authenticate("eva", "still wrong!!")
    assert refused.value.cause == "wrong_password"
    assert accounts.get("eva").is_locked(clock.now)


def test_a_success_resets_the_count_of_failures(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    for _ in range(2):
        with pytest.raises(SignInRefusedError):
            accounts.authenticate("eva", "wrong password!")
    accounts.authenticate("eva", PASSWORD)
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("eva", "wrong password!")
    assert accounts.get("eva").failed_signins == 1 and accounts.get("eva").locked_until is None


def test_unlock_lifts_the_lock(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    for _ in range(3):
        with pytest.raises(SignInRefusedError):
            accounts.authenticate("eva", "wrong password!")
    accounts.unlock("eva")
    assert accounts.authenticate("eva", PASSWORD).advisor.username == "eva"


def test_disable_and_enable(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    assert accounts.disable("eva").active is False
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("eva", PASSWORD)
    accounts.enable("eva")
    assert accounts.authenticate("eva", PASSWORD).advisor.active


def test_set_password_replaces_the_hash_and_changes_the_session_stamp(accounts: AccountStore) -> None:
    accounts.add("eva", "Eva Ek", PASSWORD)
    stamp = accounts.get("eva").session_stamp
    accounts.set_password("eva", "a brand new passphrase")
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("eva", PASSWORD)
    assert accounts.authenticate("eva", "a brand new passphrase").session_stamp != stamp
    with pytest.raises(AccountValidationError):
        accounts.set_password("eva", "short")


def test_unknown_accounts_are_reported(accounts: AccountStore) -> None:
    for action in (accounts.disable, accounts.enable, accounts.unlock, accounts.get):
        with pytest.raises(AccountNotFoundError, match="no advisor account 'nobody'"):
            action("nobody")
    assert accounts.find("nobody") is None and accounts.find("NOT VALID") is None


def test_a_hash_made_with_old_parameters_is_rehashed_at_sign_in(store: RequestStore, clock: FakeClock) -> None:
    old = AccountStore(store.engine, clock=clock, hasher=FAST_HASHER)
    old.add("eva", "Eva Ek", PASSWORD)
    before = stored_hash(store, "eva")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    AccountStore(store.engine, clock=clock, hasher=stronger).authenticate("eva", PASSWORD)
    after = stored_hash(store, "eva")
    assert after != before and "m=16,t=2,p=1" in after and not stronger.check_needs_rehash(after)


def test_list_is_sorted_by_username(accounts: AccountStore) -> None:
    for username in ("olle", "anna", "eva"):
        accounts.add(username, username.title(), PASSWORD)
    assert [state.advisor.username for state in accounts.list()] == ["anna", "eva", "olle"]


# -- the session key -----------------------------------------------------------------------------------------


def test_a_session_key_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "session.key"
    settings = Settings.from_env({"NAVIGATOR_SESSION_KEY_FILE": str(key_file)})
    first = session_key(settings)
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert session_key(settings) == first
    Fernet(first)  # usable
    assert [path.name for path in key_file.parent.iterdir()] == ["session.key"]  # no temporary file left


def test_the_configured_secret_wins_and_a_bad_one_names_the_variable(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({"NAVIGATOR_SESSION_SECRET": key,
                                  "NAVIGATOR_SESSION_KEY_FILE": str(tmp_path / "unused.key")})
    assert session_key(settings) == key.encode() and not (tmp_path / "unused.key").exists()
    with pytest.raises(SettingsError, match="NAVIGATOR_SESSION_SECRET"):
        session_key(Settings.from_env({"NAVIGATOR_SESSION_SECRET": "not-a-key"}))


def test_a_damaged_key_file_names_the_variable(tmp_path: Path) -> None:
    key_file = tmp_path / "session.key"
    key_file.write_text("garbage\n")
    with pytest.raises(SettingsError, match="NAVIGATOR_SESSION_KEY_FILE"):
        session_key(Settings.from_env({"NAVIGATOR_SESSION_KEY_FILE": str(key_file)}))
