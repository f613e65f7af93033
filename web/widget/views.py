"""The website pages ``/`` (English) and ``/sv`` (Swedish), the loader ``/widget.js`` and the widget bundle
``/static/vendor/rasa-webchat.js``."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from dataclasses import dataclass

from aiohttp import web

from web.services import SETTINGS_KEY
from web.widget.bundle import BUNDLE_KEY, BUNDLE_URL_PATH
from web.widget.loader import LoaderError, read_loader, render_loader
from web.widget.policy import website_policy

log = logging.getLogger(__name__)

PAGE_POLICY_KEY = web.AppKey("widget_page_policy", str)

LOADER_CACHE_CONTROL = "no-cache"
"""Embedding sites always get the current loader (it is small); it names the versioned bundle."""

BUNDLE_CACHE_CONTROL = "public, max-age=86400"
"""The bundle's URL carries its version, so a day's caching never serves a stale widget for long."""


@dataclass(frozen=True)
class SitePage:
    """One language's version of the demonstration website."""

    lang: str  # the page's ``lang``, also the widget's ``data-lang``
    path: str
    name: str  # the language's name in itself, for the switch
    template: str


SITE_PAGES = (SitePage("en", "/", "English", "widget/index.html"),
              SitePage("sv", "/sv", "Svenska", "widget/index_sv.html"))


def add_routes(app: web.Application) -> None:
    """Register the routes; the page's policy is computed once, here, from the settings.

    Raises:
        PolicyError: ``NAVIGATOR_RASA_PUBLIC_URL`` cannot be used in a policy.
    """
    app[PAGE_POLICY_KEY] = website_policy(app[SETTINGS_KEY].rasa_public_url)
    for page in SITE_PAGES:
        app.router.add_get(page.path, _website(page), name=f"widget_website_{page.lang}")
    app.router.add_get("/widget.js", loader, name="widget_loader")
    # Registered before the /static/ folder, so this path is answered here.
    app.router.add_get(BUNDLE_URL_PATH, bundle, name="widget_bundle")


def _website(page: SitePage):
    async def website(request: web.Request) -> web.Response:
        """The demonstration programme website in one language, with the chat widget (told the page's language)
        and its own Content-Security-Policy."""
        response = aiohttp_jinja2.render_template(page.template, request, {
            "lang": page.lang, "home": page.path, "languages": SITE_PAGES})
        response.headers["Content-Security-Policy"] = request.app[PAGE_POLICY_KEY]
        response.headers["Content-Language"] = page.lang
        return response

    return website


async def loader(request: web.Request) -> web.Response:
    """The loader script, with this server's socket URL and bundle path written in."""
    try:
        text = render_loader(read_loader(), socket_url=request.app[SETTINGS_KEY].rasa_public_url,
                             bundle_path=request.app[BUNDLE_KEY].url_path())
    except LoaderError as exc:
        log.error("%s", exc)
        raise web.HTTPInternalServerError(text="the chat widget's loader is broken; see the service log") from exc
    return web.Response(text=text, content_type="text/javascript", charset="utf-8",
                        headers={"Cache-Control": LOADER_CACHE_CONTROL})


async def bundle(request: web.Request) -> web.StreamResponse:
    """The rasa-webchat browser build from ``node_modules``; 404 (and an error in the log) when not installed."""
    installed = request.app[BUNDLE_KEY]
    if not installed.exists():
        log.error("%s", installed.missing_message())
        raise web.HTTPNotFound(text="the chat widget is not installed on this server; see the service log")
    return web.FileResponse(installed.script, headers={"Content-Type": "text/javascript; charset=utf-8",
                                                       "Cache-Control": BUNDLE_CACHE_CONTROL})
