"""The advisors' console under ``/console/``: sign-in, intake search, support requests and their CSV export.

Modules, one job each:

- :mod:`support_requests.accounts`: advisor accounts, password hashing and the sign-in lock-out (no aiohttp).
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


from aiohttp import web

from web.console import new_request_views, request_views, search_views, signin_views
from web.console.sessions import setup_sessions
from web.services import SETTINGS_KEY


def setup(app: web.Application) -> None:
    """Add the console to ``app``: the session middleware and the console's routes.

    Args:
        app: the service application, with its :class:`~web.services.WebSettings` under ``SETTINGS_KEY``.
    """
    setup_sessions(app, app[SETTINGS_KEY])
    app.router.add_get("/console", _to_console_home)
    signin_views.add_routes(app)
    search_views.add_routes(app)
    new_request_views.add_routes(app)  # before request_views: /requests/new is not a reference
    request_views.add_routes(app)


async def _to_console_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")
