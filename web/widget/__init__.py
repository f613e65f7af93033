"""The website chat widget: a demonstration programme website at ``/``, the loader ``/widget.js`` that embeds
the widget on any site with one script tag, and the widget itself at ``/static/vendor/rasa-webchat.js``.

The widget is rasa-webchat from npm, pinned in ``web/widget/package.json`` and ``package-lock.json`` and
installed by ``make setup`` (``npm ci``) into ``web/widget/node_modules``; nothing is built or downloaded at
run time, and none of its code is kept in the repository. It talks to the Rasa server's socket.io channel
(``bot/webchat_channel.py``) at ``NAVIGATOR_RASA_PUBLIC_URL``.

Modules, one job each:

- :mod:`web.widget.bundle`: where the installed bundle is, which version it is, and its app key.
- :mod:`web.widget.policy`: the Content-Security-Policy of the website page (no aiohttp).
- :mod:`web.widget.views`: the page, the loader and the bundle.
"""

from __future__ import annotations

from aiohttp import web

from web.widget import views
from web.widget.bundle import BUNDLE_KEY, WidgetBundle


def setup(app: web.Application) -> None:
    """Add the website page, the loader and the widget bundle to ``app``.

    The bundle is looked up in ``web/widget/node_modules`` unless a test put another :class:`WidgetBundle` in
    ``app[BUNDLE_KEY]``. A missing bundle does not stop the service: its route answers 404 and logs how to
    install it.
    """
    if BUNDLE_KEY not in app:
        app[BUNDLE_KEY] = WidgetBundle.installed()
    views.add_routes(app)
