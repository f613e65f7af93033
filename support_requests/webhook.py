"""Delivering outbox webhooks: a signed JSON POST to a CRM (aiohttp).

The body is the stored document plus ``delivery_id``, serialised the same way on
every retry. ``X-Navigator-Signature: sha256=<hex>`` is the HMAC-SHA256 of the
raw body with the shared secret; ``Idempotency-Key`` (and ``delivery_id``) is
derived from the outbox row id, so the receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from support_requests.errors import DeliveryError, PermanentDeliveryError
from support_requests.notifications import WEBHOOK
from support_requests.outbox import OutboxMessage

SIGNATURE_HEADER = "X-Navigator-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_RETRYABLE_CLIENT_STATUSES = {408, 409, 425, 429}


def sign_body(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison); for receivers and tests."""
    return header is not None and hmac.compare_digest(sign_body(secret, body), header)


def webhook_body(message: OutboxMessage) -> bytes:
    """The exact bytes posted for ``message``: the same on every retry."""
    document = dict(message.payload, delivery_id=message.delivery_id)
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """Posts ``webhook`` outbox messages to their URL. Open it with ``async with`` (or call :meth:`close`)."""

    kind = WEBHOOK

    def __init__(self, secret: str, *, timeout: float = 15.0):
        if not secret:
            raise ValueError("a webhook needs a shared secret to sign its body")
        self._secret = secret
        self._timeout = timeout
        self._session = None  # aiohttp.ClientSession, opened on first use inside the running loop

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, message: OutboxMessage) -> None:
        """Post one notification; returns once the receiver answered 2xx.

        Raises:
            PermanentDeliveryError: a 4xx answer other than 408, 409, 425 or 429.
            DeliveryError: a network error, a timeout, or another non-2xx answer.
        """
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        body = webhook_body(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_body(self._secret, body),
            IDEMPOTENCY_HEADER: message.delivery_id,
            "X-Navigator-Reference": message.reference,
        }
        try:
            async with self._session.post(message.recipient, data=body, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise DeliveryError(type(error).__name__) from None
        if 200 <= status < 300:
            return
        detail = f"HTTP {status}"
        if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_STATUSES:
            raise PermanentDeliveryError(detail)
        raise DeliveryError(detail)
