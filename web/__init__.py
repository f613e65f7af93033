"""The web faces of Navigator, mounted on the service's aiohttp application.

- :mod:`web.widget`: the demonstration website at ``/`` with the chat widget.
- :mod:`web.console`: the advisors' console under ``/console/`` (sign-in, intake search, request queue).
- :mod:`web.insights`: console pages for conversations flagged for a person and unmet demand.
- :mod:`web.api`: the JSON API under ``/api/`` with its OpenAPI document and token authentication.
- :mod:`web.metrics`: ``/metrics`` in Prometheus format.
- :mod:`web.security`: headers every response carries (Content-Security-Policy and friends).
- :mod:`web.follow_up`: the public follow-up page ``/follow-up/{token}`` a company reaches from its email.

Pages are Jinja2 templates in ``web/templates`` (autoescaped: nothing a user typed is ever markup) and
static files in ``web/static``, served at ``/static/``.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

WEB_ROOT = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_ROOT / "templates"
STATIC_DIR = WEB_ROOT / "static"


def setup_web(app: web.Application) -> None:
    """Add the pages, the API, the metrics and the security headers to ``app`` (before it starts)."""
    from web import api, console, follow_up, insights, metrics, security, widget

    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                         autoescape=jinja2.select_autoescape(["html"], default=True),
                         undefined=jinja2.StrictUndefined)
    security.setup(app)
    metrics.setup(app)
    console.setup(app)
    insights.setup(app)
    api.setup(app)
    follow_up.setup(app)
    widget.setup(app)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
