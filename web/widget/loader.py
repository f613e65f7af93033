"""The loader script ``/widget.js``: the JavaScript file in ``web/static/widget/`` with this server's defaults
written in.

The file holds two placeholders, each a JavaScript string literal that appears exactly once:
``"__NAVIGATOR_SOCKET_URL__"`` (the socket URL used when the script tag has no ``data-socket-url``) and
``"__NAVIGATOR_BUNDLE_PATH__"`` (the bundle's path on the loader's own origin).
"""

from __future__ import annotations

import json
from pathlib import Path

from web import STATIC_DIR

LOADER_SOURCE = STATIC_DIR / "widget" / "widget.js"
SOCKET_URL_PLACEHOLDER = '"__NAVIGATOR_SOCKET_URL__"'
BUNDLE_PATH_PLACEHOLDER = '"__NAVIGATOR_BUNDLE_PATH__"'


class LoaderError(RuntimeError):
    """The loader's source cannot be read or lacks a placeholder."""


def render_loader(source: str, *, socket_url: str, bundle_path: str) -> str:
    """``source`` with the placeholders replaced by the values as JavaScript string literals.

    Args:
        source: the loader's JavaScript.
        socket_url: the Rasa server's public URL.
        bundle_path: the bundle's path on the service (``/static/vendor/rasa-webchat.js?v=1.0.1``).

    Raises:
        LoaderError: a placeholder is missing or appears more than once.
    """
    for placeholder in (SOCKET_URL_PLACEHOLDER, BUNDLE_PATH_PLACEHOLDER):
        count = source.count(placeholder)
        if count != 1:
            raise LoaderError(f"the widget loader must contain {placeholder} exactly once, found it {count} times")
    return (source.replace(SOCKET_URL_PLACEHOLDER, _js_string(socket_url))
            .replace(BUNDLE_PATH_PLACEHOLDER, _js_string(bundle_path)))


def read_loader(path: Path = LOADER_SOURCE) -> str:
    """The loader's source text.

    Raises:
        LoaderError: the file cannot be read.
    """
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LoaderError(f"cannot read the widget loader {path}: {exc.strerror}") from exc


def _js_string(value: str) -> str:
    # JSON is valid JavaScript; escaping "<" keeps "</script>" out even if the file is ever inlined.
    return json.dumps(value).replace("<", "\\u003c")
