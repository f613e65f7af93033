"""Sending generated messages to the running assistant over Rasa's REST channel and the widget's socket.io channel,
and telling what came back: the seeded run (tests/fuzz/test_stack_fuzz.py) and the long one (tests/fuzz/bench.py).

- :func:`rest_exchange`: one POST to ``/webhooks/rest/webhook``. The body is JSON with every non-ASCII character
  escaped, so a lone surrogate travels as ``"\\ud800"``, as JSON allows; ``raw=True`` sends the characters as
  UTF-8 instead, lone surrogates as the bytes UTF-8 forbids (which the server's JSON parser, ujson, reads as the
  same surrogates).
- :class:`SocketioUser`: one connection of python-socketio's client (as rasa-webchat: ``session_request``, then
  ``user_uttered`` with the session id), which asks for an acknowledgement of each message: the server sends it
  once its handler has returned, after the turn's ``bot_uttered`` events, so the replies of one message are known
  exactly, an empty turn included, with no waiting for silence. It can open a new session (a new conversation)
  on the same connection.

Each client may send from a loopback address of its own (``source``, such as ``127.0.3.7``): the input guard
counts the TCP peer per address, so that clients that stand for different people do not share one bucket.
The outcome of each message is an :class:`Exchange`; :class:`Tally` adds them up.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import socketio

from tests.e2e.conftest import ResponseNames
from tests.fuzz.strategies import MAX_MESSAGE_CHARS

REPLY_TIMEOUT = 60.0
FAILURE_RESPONSES = frozenset({"utter_service_unavailable", "utter_search_unavailable"})
"""Answers that say something failed inside the assistant (a store, the search service): counted as errors."""
FAILURE_LINE = re.compile(r'Traceback|Exception|\bERROR\b|\bCRITICAL\b|"level": "(?:error|critical|exception)"')
"""A line of the Rasa server's or the service's log that reports a failure: Python's logging (``ERROR``), a
traceback, or Rasa's structured events, which it writes as JSON when its output is not a terminal."""


class LogWatch:
    """The failures the given logs report from now on (the Rasa server's and the service's ``rasa.log`` and
    ``service.log`` in a stack's run folder)."""

    def __init__(self, *logs: Path):
        self.offsets = {log: log.stat().st_size if log.exists() else 0 for log in logs}

    def failures(self) -> list[str]:
        found = []
        for log, offset in self.offsets.items():
            with open(log, "rb") as lines:
                lines.seek(offset)
                found += [f"{log.name}: {line[:300]}" for line in lines.read().decode("utf-8", "replace").splitlines()
                          if FAILURE_LINE.search(line)]
        return found


@dataclass
class Exchange:
    """One message and what came back.

    Attributes:
        channel: ``rest`` or ``socketio``.
        label: the class of the input (tests/fuzz/strategies.py ``MESSAGE_CLASSES``).
        text: what was sent.
        status: the HTTP status (REST), or None (socket.io).
        replies: the bot's messages.
        error: a failure of the transport or the server (a 5xx, a timeout, a closed connection), else None.
        seconds: from sending to the last reply.
        sender: the conversation (REST's sender id), when known.
    """

    channel: str
    label: str
    text: str
    status: int | None
    replies: list[dict[str, Any]]
    error: str | None
    seconds: float
    sender: str = ""

    @property
    def oversized(self) -> bool:
        return len(self.text.strip()) > MAX_MESSAGE_CHARS

    def problem(self, names: ResponseNames) -> str | None:
        """What is wrong with this exchange, or None: a server error, an empty reply, a failure answer, or an
        oversized message not refused."""
        if self.error is not None:
            return f"server error: {self.error}"
        if self.status is not None and self.status >= 400:
            return f"HTTP {self.status}"
        if not self.replies:
            return "empty reply"
        named = [names.of(reply) for reply in self.replies]
        if FAILURE_RESPONSES & set(named):
            return f"failure answer: {named}"
        if self.oversized and named != ["utter_message_over_limit"]:
            return f"oversized message answered with {named}"
        return None


@dataclass
class Tally:
    """The figures of a run: messages, server errors, empty replies, other problems, by channel and class."""

    messages: int = 0
    server_errors: int = 0
    empty_replies: int = 0
    other_problems: int = 0
    by_class: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, exchange: Exchange, names: ResponseNames) -> None:
        self.messages += 1
        self.by_class[f"{exchange.channel}/{exchange.label}"] += 1
        problem = exchange.problem(names)
        if problem is None:
            return
        if problem.startswith(("server error", "HTTP 5")):
            self.server_errors += 1
        elif problem == "empty reply":
            self.empty_replies += 1
        else:
            self.other_problems += 1
        if len(self.examples) < 20:
            self.examples.append(f"{exchange.channel}/{exchange.label}: {problem}: {exchange.text[:80]!r}")


def request_body(sender: str, text: str, *, raw: bool = False) -> bytes:
    """The REST channel's JSON body; see the module's description for ``raw``."""
    body = {"sender": sender, "message": text}
    if raw:
        return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(body).encode("ascii")


def rest_exchange(rasa_url: str, sender: str, text: str, label: str = "", *, source: str | None = None,
                  raw: bool = False, forwarded_for: str | None = None, body: bytes | None = None,
                  timeout: float = REPLY_TIMEOUT) -> Exchange:
    """POST one message to the REST channel (from ``source`` when given) and read the replies."""
    address = urlsplit(rasa_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout,
                                            source_address=(source, 0) if source else None)
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    started = time.perf_counter()
    try:
        connection.request("POST", "/webhooks/rest/webhook", body=body or request_body(sender, text, raw=raw),
                           headers=headers)
        response = connection.getresponse()
        content = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as failed:
        return Exchange("rest", label, text, None, [], f"{type(failed).__name__}: {failed}",
                        time.perf_counter() - started, sender)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    if status >= 500:
        return Exchange("rest", label, text, status, [], f"HTTP {status}: {content[:200]!r}", seconds, sender)
    replies: list[dict[str, Any]] = []
    if status == 200:
        try:
            replies = json.loads(content)
        except ValueError:
            return Exchange("rest", label, text, status, [], f"not JSON: {content[:200]!r}", seconds, sender)
    return Exchange("rest", label, text, status, replies, None, seconds, sender)


class SocketioUser:
    """One socket.io connection of the chat widget's kind; see the module's description.

    Args:
        rasa_url: the Rasa server (``http://127.0.0.1:PORT``).
        source: the loopback address to connect from, or None for the system's choice.
        transport: ``websocket`` or ``polling``.
    """

    def __init__(self, rasa_url: str, source: str | None = None, transport: str = "websocket",
                 handle_sigint: bool = True):
        self.rasa_url = rasa_url
        self.handle_sigint = handle_sigint
        self.source = source
        self.transport = transport
        self.session_id = ""
        self._replies: list[dict[str, Any]] = []
        self._confirmed: asyncio.Queue[str] = asyncio.Queue()
        self._http: aiohttp.ClientSession | None = None
        self.client: socketio.AsyncClient | None = None

    async def connect(self) -> None:
        connector = aiohttp.TCPConnector(local_addr=(self.source, 0) if self.source else None)
        self._http = aiohttp.ClientSession(connector=connector)
        self.client = socketio.AsyncClient(reconnection=False, http_session=self._http,
                                           handle_sigint=self.handle_sigint)

        @self.client.on("session_confirm")
        async def confirmed(session_id: Any) -> None:
            await self._confirmed.put(str(session_id))

        @self.client.on("bot_uttered")
        async def uttered(message: Any) -> None:
            self._replies.append(message if isinstance(message, dict) else {"other": message})

        await self.client.connect(self.rasa_url, socketio_path="/socket.io/", transports=[self.transport],
                                  wait_timeout=30)
        await self.new_session()

    async def new_session(self) -> str:
        """Ask for a new session (a new conversation) on this connection; returns its id."""
        wanted = uuid.uuid4().hex
        await self.client.emit("session_request", {"session_id": wanted})
        self.session_id = await asyncio.wait_for(self._confirmed.get(), 30)
        return self.session_id

    async def exchange(self, text: str, label: str = "", timeout: float = REPLY_TIMEOUT) -> Exchange:
        """Send ``text`` in the current session; the replies are those that came before the acknowledgement."""
        self._replies = []
        started = time.perf_counter()
        try:
            await self.client.call("user_uttered", {"message": text, "session_id": self.session_id},
                                   timeout=timeout)
        except (TimeoutError, socketio.exceptions.SocketIOError, OSError) as failed:
            return Exchange("socketio", label, text, None, list(self._replies),
                            f"{type(failed).__name__}: {failed}", time.perf_counter() - started)
        await asyncio.sleep(0)  # a bot_uttered handler that started before the acknowledgement finishes
        return Exchange("socketio", label, text, None, list(self._replies), None, time.perf_counter() - started)

    async def exchanges(self, messages: list[tuple[str, str]], per_session: int) -> list[Exchange]:
        """Send ``(label, text)`` messages in turn, starting a new session after every ``per_session``."""
        done = []
        for number, (label, text) in enumerate(messages):
            if number and number % per_session == 0:
                await self.new_session()
            done.append(await self.exchange(text, label))
        return done

    async def close(self) -> None:
        if self.client is not None:
            # Without waiting for the long poll that is pending (on polling, up to the ping interval, 25 s).
            await self.client.eio.disconnect(abort=True)
        if self._http is not None:
            await self._http.close()
