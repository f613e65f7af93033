"""``navigator tokens ...`` (the JSON API's bearer tokens) and ``navigator bench-api``.

A token is printed once, on standard output, when it is created; a warning on standard error says to
store it. Input that cannot be used (a malformed or taken name, an unknown role or token) ends as one
line on standard error and exit status 2, with nothing changed; a database that cannot be used, 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from navigator.cli_errors import Handler, guarded
from navigator.settings import Settings

if TYPE_CHECKING:  # the stores are imported when a command runs, so the rest of the CLI never depends on them
    from support_requests.tokens import TokenInfo, TokenStore


ROLES = ("reader", "advisor")


def add_api_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``tokens`` (add, list, revoke) and ``bench-api`` to the ``navigator`` command line."""
    tokens = subparsers.add_parser("tokens", help="bearer tokens of the JSON API's machine clients").add_subparsers(
        dest="action", required=True)

    add = tokens.add_parser("add", help="create a token and print it (once)")
    add.add_argument("name", type=_name, help="the client's name, such as crm-sync (letters, digits, . _ -)")
    add.add_argument("--role", required=True, choices=ROLES,
                     help="reader: search and entries; advisor: also support requests")
    add.set_defaults(handler=_guarded(_add))

    listing = tokens.add_parser("list", help="list tokens (names, roles, dates; never the tokens)")
    listing.set_defaults(handler=_guarded(_list))

    revoke = tokens.add_parser("revoke", help="revoke a token: it stops working at once")
    revoke.add_argument("name", type=_name)
    revoke.set_defaults(handler=_guarded(_revoke))

    bench = subparsers.add_parser("bench-api", help="latency and throughput of /api/search, alone and with "
                                                     "concurrent clients")
    bench.add_argument("--sequential", type=int, default=100, help="requests one at a time (default 100)")
    bench.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    bench.add_argument("--per-client", type=int, default=20, help="requests per concurrent client (default 20)")
    bench.set_defaults(handler=_bench_api)


def open_token_store(settings: Settings) -> tuple[TokenStore, Callable[[], None]]:
    """The token store on ``settings.database_url`` (migrated), and the function that closes it."""
    from navigator.stores import open_request_store
    from support_requests.tokens import TokenStore

    store = open_request_store(settings)
    return TokenStore(store.engine), store.close


def _input_errors() -> tuple[type[Exception], ...]:
    from support_requests.tokens import TokenInputError

    return (TokenInputError,)


def _guarded(handler: Handler) -> Handler:
    """Bad input: one line and status 2; a database that cannot be used: one line and status 1."""
    return guarded(handler, input_errors=_input_errors)


def _name(text: str) -> str:
    from support_requests.tokens import TokenInputError, validate_name

    try:
        return validate_name(text)
    except TokenInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add(args: argparse.Namespace, settings: Settings) -> int:
    tokens, close = open_token_store(settings)
    try:
        token = tokens.create(args.name, args.role)
    finally:
        close()
    print(token)
    print(f"navigator: created the {args.role} token '{args.name}'. Store it now (in a secret manager): it is "
          "shown only this once, and only its hash is kept.", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    tokens, close = open_token_store(settings)
    try:
        found = tokens.list()
    finally:
        close()
    if not found:
        print("no API tokens")
    for info in found:
        print(_line(info))
    return 0


def _line(info: TokenInfo) -> str:
    state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
    used = f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never"
    return (f"{info.name}  {info.role.value:<7}  created {info.created_at:%Y-%m-%d %H:%M}  "
            f"last used {used}  {state}")


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    tokens, close = open_token_store(settings)
    try:
        info = tokens.revoke(args.name)
    finally:
        close()
    print(f"revoked the token '{info.name}' ({info.role.value}) at {info.revoked_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _bench_api(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.api_benchmark import run_api_benchmark
    from navigator.launcher import LaunchError

    if args.sequential < 5 or args.clients < 1 or args.per_client < 1:
        print("navigator: --sequential takes at least 5, --clients and --per-client at least 1", file=sys.stderr)
        return 2
    try:
        print(run_api_benchmark(settings, sequential=args.sequential, clients=args.clients,
                                per_client=args.per_client))
    except (LaunchError, RuntimeError) as exc:
        print(f"navigator: {exc}", file=sys.stderr)
        return 1
    return 0
