"""Local test servers: an SMTP server (aiosmtpd) and a CRM webhook receiver (aiohttp), on 127.0.0.1 only."""

from __future__ import annotations

import collections
import email
import email.message
import threading

from aiohttp import web
from aiohttp.test_utils import TestServer

from support_requests.webhook import verify_signature


class RecordingSmtpHandler:
    """Keeps every message it accepts; refuses recipients listed in ``refuse`` with 550."""

    def __init__(self, refuse: set[str] | None = None):
        self.messages: list[email.message.Message] = []
        self.refuse = refuse or set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def count_by(self, header: str) -> collections.Counter:
        with self._lock:
            return collections.Counter(m[header] for m in self.messages)


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:``port``, started and stopped on demand."""

    def __init__(self, port: int, handler: RecordingSmtpHandler | None = None, **options):
        self.port = port
        self.handler = handler or RecordingSmtpHandler()
        self.options = options
        self._controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WebhookReceiver:
    """An aiohttp server that records posts, checks signatures, and answers with the statuses it is given."""

    def __init__(self, secret: str, statuses: list[int] | None = None):
        self.secret = secret
        self.statuses = list(statuses or [])
        self.received: list[tuple[bytes, dict[str, str], bool]] = []
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, host="127.0.0.1")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify_signature(self.secret, body, request.headers.get("X-Navigator-Signature"))
        self.received.append((body, dict(request.headers), signed))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def __aenter__(self) -> WebhookReceiver:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("/hook"))
