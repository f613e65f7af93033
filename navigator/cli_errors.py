"""How command-line handlers turn the libraries' errors into one line on standard error and an exit status."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from navigator.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def guarded(handler: Handler, *, input_errors: Callable[[], tuple[type[Exception], ...]] = tuple) -> Handler:
    """Wrap ``handler`` so that bad input exits with status 2 and a store that cannot be used or refuses the
    change (:class:`~support_requests.errors.SupportRequestError`) with status 1.

    Args:
        handler: the command.
        input_errors: returns the exception classes that mean bad input; called only when the command runs,
            so that building the parser imports none of the stores.

    Returns:
        The wrapped handler; it prints ``navigator: <message>`` to standard error for those errors.
    """

    @functools.wraps(handler)
    def run(args: argparse.Namespace, settings: Settings) -> int:
        from support_requests.errors import SupportRequestError

        try:
            return handler(args, settings)
        except input_errors() as exc:
            print(f"navigator: {exc}", file=sys.stderr)
            return 2
        except SupportRequestError as exc:
            print(f"navigator: {exc}", file=sys.stderr)
            return 1

    return run
