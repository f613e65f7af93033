"""Headers every response of the service carries: a strict Content-Security-Policy and friends.

The policy allows scripts, styles and connections from this origin only, so an injected ``<script>`` or
inline event handler never runs: all JavaScript lives in files under ``web/static``. A handler that needs
another policy (the chat widget's page, which connects to the Rasa server) sets its own
``Content-Security-Policy`` header, and this middleware leaves it alone.

Console pages (``/console/...``) are also marked ``Cache-Control: no-store``: they show personal data, which
must not stay in a browser's or a proxy's cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])
"""The default policy, for responses whose handler did not set one."""

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the security headers to ``response`` (before it is sent), keeping a policy the handler chose.

    Args:
        request: the request answered (its path decides ``Cache-Control``).
        response: a response or a raised HTTP exception, not yet prepared.
    """
    if response.prepared:  # a streamed response has sent its headers already
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path == "/console" or request.path.startswith("/console/"):
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The middleware: every response and every raised HTTP error (404, 403, redirects) gets the headers."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        add_security_headers(request, error)
        raise
    add_security_headers(request, response)
    return response


def setup(app: web.Application) -> None:
    """Add the security-headers middleware to ``app``; :func:`web.setup_web` calls this first, so the
    middleware wraps all the others and also sees their errors."""
    app.middlewares.append(security_headers)
