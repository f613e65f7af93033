"""The advisors' console under ``/console/``: sign-in, intake search, support requests and their CSV export.

Modules, one job each:

- :mod:`web.console.accounts`: advisor accounts, password hashing and the sign-in lock-out (no aiohttp).
- :mod:`web.console.sessions`: the encrypted session cookie and its key.
- :mod:`web.console.auth`: who is signed in, page guards, CSRF tokens, the context of every page.
- :mod:`web.console.signin_views`: the sign-in and sign-out pages.
- :mod:`web.console.search_views`: the intake search page, its live JSON search and the entry pages.
- :mod:`web.console.request_views`: the request queue, one request, the CSV export.
- :mod:`web.console.new_request_views`: opening a request on a company's behalf.
- :mod:`web.console.view_helpers`: what those views share.
- :mod:`web.console.forms`: reading and checking query strings and forms (no aiohttp).

Other console pages (:mod:`web.insights`) use :mod:`web.console.auth` and ``console/base.html``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

from aiohttp import web

from navigator.context import SERVICES_KEY, SETTINGS_KEY
from web.console import new_request_views, request_views, search_views, signin_views
from web.console.accounts import AccountStore
from web.console.auth import ACCOUNTS_KEY
from web.console.sessions import setup_sessions


def setup(app: web.Application) -> None:
    """Add the console to ``app``: the session middleware, the account store (built at start-up on the request
    database, unless a test put one in ``app[ACCOUNTS_KEY]`` already) and the console's routes.

    Args:
        app: the service application, with its settings under ``SETTINGS_KEY``.

    Raises:
        SettingsError: when the session key cannot be read or created.
    """
    settings = app[SETTINGS_KEY]
    setup_sessions(app, settings)

    async def accounts(app: web.Application) -> AsyncIterator[None]:
        if ACCOUNTS_KEY not in app:
            app[ACCOUNTS_KEY] = AccountStore(
                app[SERVICES_KEY].store.engine, max_failures=settings.signin_max_failures,
                lockout=dt.timedelta(minutes=settings.signin_lockout_minutes))
        yield

    app.cleanup_ctx.append(accounts)
    app.router.add_get("/console", _to_console_home)
    signin_views.add_routes(app)
    search_views.add_routes(app)
    new_request_views.add_routes(app)  # before request_views: /requests/new is not a reference
    request_views.add_routes(app)


async def _to_console_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")
