"""Checking that a request really comes from Slack: the ``v0`` request signature.

Slack signs every request it sends (events, interactive payloads, slash commands) with the app's signing
secret: ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`` and
``X-Slack-Request-Timestamp: {seconds since the epoch}``. A request is taken only when both headers are there,
the timestamp is within five minutes of this server's clock (either way: a replayed or a post-dated request is
refused), and the signature matches, compared in constant time. See
https://api.slack.com/authentication/verifying-requests-from-slack.

No Rasa or Sanic imports: the channel and the tests use it alike.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

VERSION = "v0"
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_CLOCK_SKEW_SECONDS = 300
"""How far a request's timestamp may be from this server's clock, in seconds (Slack recommends five minutes)."""
_MAX_TIMESTAMP_DIGITS = 12


class SlackSignatureError(ValueError):
    """A request that is not verifiably from Slack. ``reason`` is a short code for logs and tests
    (``missing_timestamp``, ``missing_signature``, ``bad_timestamp``, ``stale_timestamp``, ``bad_signature``)."""

    def __init__(self, reason: str):
        super().__init__(f"request not verifiably from Slack: {reason}")
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack sends for ``body`` at ``timestamp``: ``v0=`` and 64 hex digits."""
    base = f"{VERSION}:{timestamp}:".encode("ascii") + body
    return f"{VERSION}=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Check the signature headers of a request against its raw body.

    Args:
        secret: the app's signing secret (not empty).
        headers: the request headers; looked up by the exact names above and their lower-case forms.
        body: the raw request body, exactly as received.
        now: this server's clock, seconds since the epoch.

    Raises:
        SlackSignatureError: a header is missing or malformed, the timestamp is more than
            :data:`MAX_CLOCK_SKEW_SECONDS` away from ``now``, or the signature does not match.
    """
    if not secret:
        raise SlackSignatureError("no_secret")
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if not timestamp:
        raise SlackSignatureError("missing_timestamp")
    given = _header(headers, SIGNATURE_HEADER)
    if not given:
        raise SlackSignatureError("missing_signature")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise SlackSignatureError("bad_timestamp")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise SlackSignatureError("stale_timestamp")
    expected = sign(secret, timestamp, body)
    # compare_digest needs ASCII on both sides; a non-ASCII header is simply wrong.
    if not given.isascii() or not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
        raise SlackSignatureError("bad_signature")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return (value or "").strip()
