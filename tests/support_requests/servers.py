"""Local test servers: an SMTP server (aiosmtpd) and a CRM webhook receiver (aiohttp), on 127.0.0.1 only.

No port needs guessing: a server binds port 0 by default and reports the port the system gave it, and
:func:`refusing_port` holds a port on which nothing listens yet (connections are refused), which a server
can later take over, so that no other process can take it in between.
"""

from __future__ import annotations

import collections
import contextlib
import email
import email.message
import socket
import threading
from collections.abc import Iterator

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


@contextlib.contextmanager
def refusing_port() -> Iterator[socket.socket]:
    """A TCP socket bound to a free port on 127.0.0.1 that does not listen, held for the ``with`` block.

    Connections to its port (``sock.getsockname()[1]``) are refused, as by a server that is down, and no other
    process can take the port meanwhile. Pass it to :class:`SmtpServer` as ``sock`` to start serving there.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock
    finally:
        sock.close()


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1, started and stopped on demand.

    Args:
        port: the port to listen on; 0 (the default) lets the system choose a free one when the server
            starts. Either way :attr:`port` is read back from the bound socket once started.
        handler: the message handler (a fresh :class:`RecordingSmtpHandler` by default).
        sock: a bound socket to listen on instead of ``port`` (see :func:`refusing_port`); the server
            closes it when it stops.
        **options: passed to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``, ``authenticator``...).
    """

    def __init__(self, port: int = 0, handler: RecordingSmtpHandler | None = None, *,
                 sock: socket.socket | None = None, **options):
        self.port = sock.getsockname()[1] if sock is not None else port
        self.handler = handler or RecordingSmtpHandler()
        self.options = options
        self._sock = sock
        self._controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        sock = self._sock

        class BoundController(Controller):
            """aiosmtpd's controller, listening on ``sock`` when given, and connecting to the port it really bound
            (aiosmtpd would connect to the port it was asked for, 0) to check that the server answers."""

            def _create_server(self):
                if sock is None:
                    return super()._create_server()
                return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)

            def _trigger_server(self):
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        self._controller = BoundController(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self._controller.start()
        self.port = self._controller.port
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
