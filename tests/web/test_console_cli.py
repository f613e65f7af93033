"""``navigator advisors ...``: creating and managing console accounts from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from navigator import advisors_cli, cli
from support_requests.store import RequestStore
from support_requests.accounts import AccountStore, SignInRefusedError

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'requests.db'}"
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", url)
    monkeypatch.setenv("NAVIGATOR_SIGNIN_MAX_FAILURES", "2")
    return url


def run(capsys, *args: str, stdin: str | None = None, typed: list[str] | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    if typed is not None:
        answers = iter(typed)
        monkeypatch.setattr(advisors_cli.getpass, "getpass", lambda prompt="": next(answers))
    code = cli.main(["advisors", *args])
    out, err = capsys.readouterr()
    return code, out, err


def accounts(url: str) -> AccountStore:
    return AccountStore(RequestStore.from_url(url).engine)


def test_add_with_the_password_typed_twice(db: str, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, "add", "eva.ek", "--name", "Eva Ek", "--role", "admin",
                         typed=[PASSWORD, PASSWORD], monkeypatch=monkeypatch)
    assert (code, err) == (0, "") and "created admin account eva.ek (Eva Ek)" in out
    state = accounts(db).authenticate("eva.ek", PASSWORD)
    assert state.advisor.role == "admin" and state.advisor.display_name == "Eva Ek"


def test_add_with_the_password_on_stdin(db: str, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, "add", "olle", "--name", "Olle Berg", "--password-stdin",
                       stdin=f"{PASSWORD}\n", monkeypatch=monkeypatch)
    assert code == 0 and "created advisor account olle" in out
    assert accounts(db).authenticate("olle", PASSWORD).advisor.role == "advisor"


@pytest.mark.parametrize(("args", "stdin", "typed", "message"), [
    (["add", "Eva", "--name", "Eva Ek", "--password-stdin"], PASSWORD, None, "username: use 3 to 64 characters"),
    (["add", "eva", "--name", "  ", "--password-stdin"], PASSWORD, None, "display name"),
    (["add", "eva", "--name", "Eva Ek", "--password-stdin"], "too short\n", None, "at least 12 characters"),
    (["add", "eva", "--name", "Eva Ek", "--password-stdin"], "", None, "no password on standard input"),
    (["add", "eva", "--name", "Eva Ek"], None, [PASSWORD, PASSWORD + "x"], "the two passwords differ"),
])
def test_bad_input_exits_2_and_creates_nothing(db: str, capsys, monkeypatch, args, stdin, typed, message) -> None:
    code, out, err = run(capsys, *args, stdin=stdin, typed=typed, monkeypatch=monkeypatch)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
    assert PASSWORD not in err
    assert accounts(db).list() == []


def test_a_taken_username_exits_2(db: str, capsys, monkeypatch) -> None:
    run(capsys, "add", "eva", "--name", "Eva Ek", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    code, _, err = run(capsys, "add", "eva", "--name", "Other", "--password-stdin", stdin=PASSWORD,
                       monkeypatch=monkeypatch)
    assert code == 2 and "exists already" in err
    assert [s.advisor.display_name for s in accounts(db).list()] == ["Eva Ek"]


def test_an_unknown_role_is_a_usage_error(db: str, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["advisors", "add", "eva", "--name", "Eva Ek", "--role", "root"])
    assert stopped.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_list_disable_enable_unlock(db: str, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and "no advisor accounts" in out
    run(capsys, "add", "eva", "--name", "Eva Ek", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    store = accounts(db)
    for _ in range(2):
        with pytest.raises(SignInRefusedError):
            AccountStore(store.engine, max_failures=2).authenticate("eva", "wrong password")
    code, out, _ = run(capsys, "list")
    assert code == 0 and out.startswith("eva ") and "Eva Ek" in out and "locked until" in out and "never" in out
    assert run(capsys, "unlock", "eva")[:2] == (0, "eva is unlocked\n")
    assert "locked" not in run(capsys, "list")[1]
    assert run(capsys, "disable", "eva")[:2] == (0, "eva is disabled\n")
    assert "(disabled)" in run(capsys, "list")[1]
    with pytest.raises(SignInRefusedError):
        store.authenticate("eva", PASSWORD)
    assert run(capsys, "enable", "eva")[0] == 0
    assert store.authenticate("eva", PASSWORD).advisor.active


def test_set_password(db: str, capsys, monkeypatch) -> None:
    run(capsys, "add", "eva", "--name", "Eva Ek", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    code, out, _ = run(capsys, "set-password", "eva", typed=["a new long passphrase"] * 2, monkeypatch=monkeypatch)
    assert code == 0 and "new password set for eva" in out
    assert accounts(db).authenticate("eva", "a new long passphrase")
    code, _, err = run(capsys, "set-password", "eva", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "at least 12 characters" in err
    assert accounts(db).authenticate("eva", "a new long passphrase")


@pytest.mark.parametrize("action", ["disable", "enable", "unlock", "set-password"])
def test_an_unknown_account_exits_2(db: str, capsys, monkeypatch, action: str) -> None:
    monkeypatch.setattr(advisors_cli.getpass, "getpass", lambda prompt="": pytest.fail("asked for a password"))
    code, out, err = run(capsys, action, "nobody")
    assert code == 2 and out == "" and "no advisor account 'nobody'" in err


def test_an_unreachable_database_exits_1(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    code, _, err = run(capsys, "list")
    assert code == 1 and err.startswith("navigator: ") and err.count("\n") == 1
