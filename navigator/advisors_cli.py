"""``navigator advisors ...``: the accounts of the advisors' console.

Passwords are read without echo, twice (``getpass``), or once from standard input with ``--password-stdin``
(for scripts: ``printf '%s\\n' "$PASSWORD" | navigator advisors add ...``); they are never taken as an argument,
which would leave them in the shell history and the process list. Input that cannot be used (a malformed or
taken username, a short password, an unknown account) ends as one line on standard error and exit status 2,
with nothing changed; a database that cannot be used, 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from navigator.cli_errors import Handler, guarded
from navigator.settings import Settings

if TYPE_CHECKING:  # the stores are imported when a command runs, so the rest of the CLI never depends on them
    from support_requests.accounts import AccountStore



class PasswordInputError(ValueError):
    """The password could not be read (the two entries differ, standard input is empty)."""


def add_advisors_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``advisors`` (add, list, disable, enable, unlock, set-password) to the ``navigator`` command line."""
    advisors = subparsers.add_parser("advisors", help="accounts of the advisors' console").add_subparsers(
        dest="action", required=True)

    add = advisors.add_parser("add", help="create an account (the password is asked for)")
    add.add_argument("username", help="3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("--name", required=True, help="the advisor's full name, shown in the console")
    add.add_argument("--role", default="advisor", choices=("advisor", "admin"), help="default: advisor")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_guarded(_add))

    listing = advisors.add_parser("list", help="list accounts with their role, state and last sign-in")
    listing.set_defaults(handler=_guarded(_list))

    disable = advisors.add_parser("disable", help="stop an account from signing in (its sessions end too)")
    disable.add_argument("username")
    disable.set_defaults(handler=_guarded(_disable))

    enable = advisors.add_parser("enable", help="let a disabled account sign in again")
    enable.add_argument("username")
    enable.set_defaults(handler=_guarded(_enable))

    unlock = advisors.add_parser("unlock", help="lift a lock-out after failed sign-ins")
    unlock.add_argument("username")
    unlock.set_defaults(handler=_guarded(_unlock))

    password = advisors.add_parser("set-password", help="set a new password (ends the account's sessions)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(handler=_guarded(_set_password))


@contextmanager
def open_account_store(settings: Settings) -> Iterator[AccountStore]:
    """The account store on ``settings.database_url`` (migrated), closed afterwards, with the lock-out settings."""
    from navigator.stores import open_request_store
    from support_requests.accounts import AccountStore

    store = open_request_store(settings)
    try:
        yield AccountStore(store.engine, max_failures=settings.signin_max_failures,
                           lockout=dt.timedelta(minutes=settings.signin_lockout_minutes))
    finally:
        store.close()


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice without echo.

    Raises:
        PasswordInputError: when standard input is empty or the two typed entries differ.
    """
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise PasswordInputError("no password on standard input")
        return line.rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    second = getpass.getpass("The same password again: ")
    if first != second:
        raise PasswordInputError("the two passwords differ; nothing was changed")
    return first


def _input_errors() -> tuple[type[Exception], ...]:
    from support_requests.accounts import AccountError

    return AccountError, PasswordInputError


def _guarded(handler: Handler) -> Handler:
    """Bad input: one line and status 2; a database that cannot be used: one line and status 1."""
    return guarded(handler, input_errors=_input_errors)


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from support_requests.accounts import validate_display_name, validate_password, validate_role, validate_username

    # Everything is checked before the password is asked for, and the password before the database is opened.
    username, name = validate_username(args.username), validate_display_name(args.name)
    role = validate_role(args.role)
    password = validate_password(read_password(args.password_stdin))
    with open_account_store(settings) as accounts:
        advisor = accounts.add(username, name, password, role)
    print(f"created {advisor.role} account {advisor.username} ({advisor.display_name})")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with open_account_store(settings) as accounts:
        states = accounts.list()
        now = accounts.clock()
    if not states:
        print("no advisor accounts; create one with: navigator advisors add USERNAME --name 'Full Name'")
    for state in states:
        advisor = state.advisor
        flags = [] if advisor.active else ["disabled"]
        if state.is_locked(now):
            flags.append(f"locked until {state.locked_until:%Y-%m-%d %H:%M} UTC")
        last = f"{state.last_signin_at:%Y-%m-%d %H:%M} UTC" if state.last_signin_at else "never"
        print(f"{advisor.username:<20} {advisor.role:<8} {advisor.display_name}  [last sign-in {last}]"
              + (f"  ({', '.join(flags)})" if flags else ""))
    return 0


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    with open_account_store(settings) as accounts:
        advisor = accounts.disable(args.username)
    print(f"{advisor.username} is disabled")
    return 0


def _enable(args: argparse.Namespace, settings: Settings) -> int:
    with open_account_store(settings) as accounts:
        advisor = accounts.enable(args.username)
    print(f"{advisor.username} may sign in again")
    return 0


def _unlock(args: argparse.Namespace, settings: Settings) -> int:
    with open_account_store(settings) as accounts:
        advisor = accounts.unlock(args.username)
    print(f"{advisor.username} is unlocked")
    return 0


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    from support_requests.accounts import validate_password

    with open_account_store(settings) as accounts:
        accounts.get(args.username)  # an unknown account is reported before the password is asked for
        password = validate_password(read_password(args.password_stdin))
        advisor = accounts.set_password(args.username, password)
    print(f"new password set for {advisor.username}; their open sessions have ended")
    return 0
