"""The website page, the widget loader and the widget bundle, through the service's test client.

The browser side (the widget talking to Rasa, the link guard, user text shown as text) is in
tests/browser/test_widget_browser.py.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from tests.web.conftest import ConsoleWorld
from web.widget.bundle import BUNDLE_KEY, BUNDLE_URL_PATH, WIDGET_PACKAGE_DIR, WidgetBundle
from web.widget.loader import (BUNDLE_PATH_PLACEHOLDER, SOCKET_URL_PLACEHOLDER, LoaderError, read_loader,
                               render_loader)
from web.widget.policy import PolicyError, socket_sources, website_policy


def directives(policy: str) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in policy.split("; "))


def fake_bundle(root: Path, version: str = "9.9.9", script: str = "window.WebChat = {};") -> WidgetBundle:
    package = root / "node_modules" / "rasa-webchat"
    (package / "lib").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "rasa-webchat", "version": version}))
    (package / "lib" / "index.js").write_text(script)
    return WidgetBundle.installed(root)


# --- the page's policy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    ("http://localhost:5005", ["http://localhost:5005", "ws://localhost:5005"]),
    ("https://rasa.example.org", ["https://rasa.example.org", "wss://rasa.example.org"]),
    ("https://rasa.example.org:8443/some/path?q=1", ["https://rasa.example.org:8443", "wss://rasa.example.org:8443"]),
    ("http://[::1]:5005", ["http://[::1]:5005", "ws://[::1]:5005"]),
])
def test_socket_sources_name_the_http_and_websocket_origins(url: str, expected: list[str]) -> None:
    assert socket_sources(url) == expected


@pytest.mark.parametrize("url", ["ftp://rasa.example.org", "rasa.example.org", "https://", "javascript:alert(1)"])
def test_an_unusable_rasa_url_is_refused(url: str) -> None:
    with pytest.raises(PolicyError, match="http:// or https://"):
        socket_sources(url)


def test_the_website_policy_opens_only_what_the_widget_needs() -> None:
    policy = directives(website_policy("https://rasa.example.org"))
    assert policy == {
        "default-src": "'self'", "script-src": "'self'", "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:", "font-src": "'self' data:",
        "connect-src": "'self' https://rasa.example.org wss://rasa.example.org",
        "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'self'",
    }


# --- the loader's placeholders -------------------------------------------------------------------------------

def test_the_loader_source_has_each_placeholder_once() -> None:
    source = read_loader()
    assert source.count(SOCKET_URL_PLACEHOLDER) == 1 and source.count(BUNDLE_PATH_PLACEHOLDER) == 1


def test_render_loader_writes_the_values_as_javascript_strings() -> None:
    source = f"var a = {SOCKET_URL_PLACEHOLDER}; var b = {BUNDLE_PATH_PLACEHOLDER};"
    rendered = render_loader(source, socket_url='https://rasa.example.org/"</script>', bundle_path="/b.js?v=1")
    assert rendered == 'var a = "https://rasa.example.org/\\"\\u003c/script>"; var b = "/b.js?v=1";'


@pytest.mark.parametrize("source", ["var a = 1;", f"{SOCKET_URL_PLACEHOLDER} {SOCKET_URL_PLACEHOLDER} "
                                                  f"{BUNDLE_PATH_PLACEHOLDER}"])
def test_render_loader_refuses_a_source_without_exactly_one_placeholder(source: str) -> None:
    with pytest.raises(LoaderError, match="exactly once"):
        render_loader(source, socket_url="http://x", bundle_path="/b.js")


def test_read_loader_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="cannot read the widget loader"):
        read_loader(tmp_path / "widget.js")


# --- the bundle ----------------------------------------------------------------------------------------------

def test_the_pinned_widget_version_is_the_locked_one() -> None:
    manifest = json.loads((WIDGET_PACKAGE_DIR / "package.json").read_text())
    lock = json.loads((WIDGET_PACKAGE_DIR / "package-lock.json").read_text())
    pinned = manifest["dependencies"]["rasa-webchat"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version: npm ci installs only what is locked"
    assert lock["packages"]["node_modules/rasa-webchat"]["version"] == pinned
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]


def test_a_bundle_knows_its_version_and_versioned_path(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path, version="1.2.3")
    assert bundle.exists() and bundle.version() == "1.2.3"
    assert bundle.url_path() == f"{BUNDLE_URL_PATH}?v=1.2.3"


def test_a_missing_bundle_has_no_version_and_says_how_to_install(tmp_path: Path) -> None:
    bundle = WidgetBundle.installed(tmp_path)
    assert not bundle.exists() and bundle.version() is None
    assert bundle.url_path() == BUNDLE_URL_PATH
    assert "make setup" in bundle.missing_message() and "npm ci" in bundle.missing_message()


# --- the routes ----------------------------------------------------------------------------------------------

async def test_the_website_page_embeds_the_widget_with_its_own_policy(console: ConsoleWorld) -> None:
    response = await console.client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["connect-src"] == "'self' http://localhost:5005 ws://localhost:5005"
    assert policy["script-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts), \
        "every script is a file: the policy allows no inline script"
    assert '<script src="/widget.js"' in html
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert re.search(r'href="/static/widget/site\.css\?v=[^"]+"', html)


async def test_the_page_policy_follows_the_rasa_public_url(console_factory) -> None:
    world = await console_factory(NAVIGATOR_RASA_PUBLIC_URL="https://rasa.example.org")
    response = await world.client.get("/")
    assert directives(response.headers["Content-Security-Policy"])["connect-src"] == \
        "'self' https://rasa.example.org wss://rasa.example.org"


async def test_the_loader_carries_the_servers_defaults(console_factory, tmp_path: Path) -> None:
    def prepare(app) -> None:
        app[BUNDLE_KEY] = fake_bundle(tmp_path, version="4.5.6")

    world = await console_factory(prepare, NAVIGATOR_RASA_PUBLIC_URL="https://rasa.example.org")
    response = await world.client.get("/widget.js")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    script = await response.text()
    assert 'var DEFAULT_SOCKET_URL = "https://rasa.example.org";' in script
    assert f'var BUNDLE_PATH = "{BUNDLE_URL_PATH}?v=4.5.6";' in script
    assert "__NAVIGATOR_" not in script


async def test_the_bundle_is_served_from_the_installed_package(console_factory, tmp_path: Path) -> None:
    def prepare(app) -> None:
        app[BUNDLE_KEY] = fake_bundle(tmp_path, script="window.WebChat = {default: function () {}};")

    world = await console_factory(prepare)
    response = await world.client.get(f"{BUNDLE_URL_PATH}?v=9.9.9")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert await response.text() == "window.WebChat = {default: function () {}};"


async def test_a_missing_bundle_is_a_404_with_a_clear_log(console_factory, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    def prepare(app) -> None:
        app[BUNDLE_KEY] = WidgetBundle.installed(tmp_path)

    world = await console_factory(prepare)
    with caplog.at_level(logging.ERROR, logger="web.widget.views"):
        response = await world.client.get(BUNDLE_URL_PATH)
    assert response.status == 404
    assert "not installed" in await response.text()
    assert str(tmp_path) not in await response.text(), "the server's paths stay in its log"
    assert any("make setup" in record.getMessage() for record in caplog.records)


async def test_other_static_files_are_still_served(console: ConsoleWorld) -> None:
    response = await console.client.get("/static/widget/site.css")
    assert response.status == 200


# --- the website in two languages ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "lang", "other_path", "other_lang"), [("/", "en", "/sv", "sv"),
                                                                       ("/sv", "sv", "/", "en")])
async def test_the_website_exists_in_english_and_swedish_with_a_switch(console: ConsoleWorld, path, lang,
                                                                      other_path, other_lang) -> None:
    response = await console.client.get(path)
    assert response.status == 200 and response.headers["Content-Language"] == lang
    assert "Content-Security-Policy" in response.headers
    html = await response.text()
    assert re.search(rf'<html lang="{lang}">', html)
    assert re.search(rf'<script src="/widget.js" data-lang="{lang}"', html), "the widget is told the language"
    switch = re.search(r'<nav class="language-switch"[^>]*>(.*?)</nav>', html, flags=re.S).group(1)
    assert re.findall(r'href="([^"]+)" hreflang="([^"]+)"', switch) == [(other_path, other_lang)]
    assert {(p, lang_) for lang_, p in re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)"', html)} \
        == {("/", "en"), ("/sv", "sv")}
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"


async def test_the_swedish_page_is_written_in_swedish(console: ConsoleWorld) -> None:
    english = await (await console.client.get("/")).text()
    swedish = await (await console.client.get("/sv")).text()
    assert "Forskningsinfrastruktur för life science-företag" in swedish and "Fråga Navigator" in swedish
    paragraphs = set(re.findall(r"<p[^>]*>(.*?)</p>", english, flags=re.S))
    assert not paragraphs & set(re.findall(r"<p[^>]*>(.*?)</p>", swedish, flags=re.S)) - {
        "Flemingsberg · Hagastaden · Solna"}, "no paragraph is left in English"


def test_the_loader_has_its_own_texts_in_both_languages() -> None:
    source = read_loader()
    for placeholder in ("Describe what your company needs...", "Beskriv vad ditt företag behöver..."):
        assert source.count(placeholder) == 1
