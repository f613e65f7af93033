"""The Content-Security-Policy of the website page at ``/``.

It is the service's strict policy with two openings that the widget needs, and nothing else:

- ``connect-src`` also allows the Rasa server's origin over http(s) and ws(s): the widget's socket.io client
  polls over HTTP first, then upgrades to a WebSocket;
- ``style-src`` allows ``'unsafe-inline'``: the rasa-webchat bundle injects its stylesheet as ``<style>``
  elements at run time. Scripts stay ``'self'`` only, so injected markup still cannot run;
- ``font-src`` allows ``data:``: the bundle's carousel icons are an inline font.

The bundle's stylesheet also imports the Inter font from Google Fonts; the policy blocks it on purpose (no
third-party request from the page), and the widget falls back to the system's sans-serif font.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class PolicyError(ValueError):
    """The Rasa public URL cannot be turned into a policy source."""


def socket_sources(rasa_public_url: str) -> list[str]:
    """The ``connect-src`` sources that reach the Rasa server at ``rasa_public_url``.

    Args:
        rasa_public_url: an ``http://`` or ``https://`` URL; only its scheme, host and port count.

    Returns:
        Two sources: ``["http://host:port", "ws://host:port"]`` for http, ``["https://…", "wss://…"]`` for https
        (the port only when the URL names one).

    Raises:
        PolicyError: when the URL is not http(s) or has no host.
    """
    parts = urlsplit(rasa_public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PolicyError(f"the Rasa public URL must be http:// or https:// with a host, got '{rasa_public_url}'")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{parts.port}" if parts.port else host
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{netloc}", f"{socket_scheme}://{netloc}"]


def website_policy(rasa_public_url: str) -> str:
    """The whole ``Content-Security-Policy`` header value of the website page.

    Args:
        rasa_public_url: the Rasa server's address as browsers reach it (``settings.rasa_public_url``).

    Raises:
        PolicyError: see :func:`socket_sources`.
    """
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src " + " ".join(["'self'", *socket_sources(rasa_public_url)]),
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])
