"""The socket.io channel that the website chat widget (rasa-webchat) talks to; it runs inside the Rasa server.

It is Rasa's own socket.io channel (same settings, same ``/socket.io`` path, same events and session
persistence) with an output that the widget can show:

- Rasa 3.6 sends a custom payload as keyword arguments of ``emit``, so ``{"type": "search_results", ...}``
  fails with a TypeError and the rest of the turn's messages are lost. Here it is sent as
  ``{"custom": payload}``: the widget ignores it, other socket.io clients may read it.
- Rasa sends buttons as ``quick_replies``, which rasa-webchat shows only under the last message, so the
  "Details" buttons of a result list would vanish. Here they are sent as ``buttons``, shown under every
  message. A button that carries a URL becomes a link only for http, https and mailto URLs.
- Rasa 3.6 calls python-socketio's ``enter_room`` without awaiting it, which python-socketio 5.10 and later
  (the version in requirements/rasa.lock) made a coroutine: the browser never joins its session's room, and
  with session persistence no answer ever reaches it. Here the session request awaits it.
- The widget renders bot text as Markdown, where a single line break is a space and "1. Vecura ..." starts a
  numbered list (shown with a bullet and without its number in the widget). Here a line break becomes a
  Markdown hard line break, so that multi-line responses (an entry's details) keep their lines, and a number
  that starts a line is escaped, so that a ranked match keeps its rank.
- A user message's metadata also carries its origin (:mod:`message_origin`: the address and
  ``X-Forwarded-For`` of the connection's request), so that the input guard can hold back a client address
  that sends too much. Metadata (the ``metadata_key`` field, ``metadata`` by default) that is not an object, or
  not JSON, is dropped rather than failing the message.

The launcher names it in credentials.yml as ``webchat_channel.WebchatInput`` (the Rasa server runs in
``bot/``, which Rasa puts on the import path).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from message_origin import MessageOrigin, origin_of_request, with_origin
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")


class WebchatOutput(SocketIOOutput):
    """Sends a turn's messages in the shapes rasa-webchat renders."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Each paragraph as one ``{"text": ...}`` message."""
        for part in _paragraphs(text):
            await self._send_message(recipient_id, {"text": part})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        """The paragraphs of ``text``, the last one as ``{"text": ..., "buttons": [...]}``."""
        parts = _paragraphs(text)
        for part in parts[:-1]:
            await self._send_message(recipient_id, {"text": part})
        await self._send_message(recipient_id, {"text": parts[-1], "buttons": [webchat_button(b) for b in buttons]})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """The payload as ``{"custom": payload}``, one socket.io argument."""
        await self._send_message(recipient_id, {"custom": json_message})


class WebchatInput(SocketIOInput):
    """Rasa's socket.io input channel answering through :class:`WebchatOutput`."""

    def get_output_channel(self) -> OutputChannel | None:
        channel = super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt) if channel is not None and self.sio else channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        # Replaces the channel's own handler: Rasa's, with our output, the message's origin and sturdier metadata.
        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                if not data.get("session_id"):
                    logger.warning("a socket.io message without a session id was ignored (send session_request "
                                   "first)")
                    return
                sender_id = str(data["session_id"])
            else:
                sender_id = sid
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            origin = (origin_of_request(environ["sanic.request"]) if "sanic.request" in environ
                      else MessageOrigin(str(environ.get("REMOTE_ADDR", ""))))
            text = data.get("message", "")
            message = UserMessage(text if isinstance(text, str) else "", WebchatOutput(sio, self.bot_message_evt),
                                  sender_id, input_channel=self.name(),
                                  metadata=with_origin(_metadata(data.get(self.metadata_key)), origin))
            await on_new_message(message)

        # Replaces the channel's own handler (python-socketio keeps one handler per event).
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            requested = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = requested if _is_session_id(requested) else uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return blueprint


def webchat_button(button: dict[str, Any]) -> dict[str, str]:
    """A Rasa button as rasa-webchat expects it: a link (``web_url``) for a safe URL, else a payload button.

    Returns:
        ``{"type": "web_url", "title", "url"}`` when the button has an http, https or mailto URL, otherwise
        ``{"type": "postback", "title", "payload"}`` (an unsafe URL is dropped).
    """
    title = str(button.get("title", ""))
    url = str(button.get("url") or "").strip()
    if url.lower().startswith(SAFE_URL_SCHEMES):
        return {"type": "web_url", "title": title, "url": url}
    return {"type": "postback", "title": title, "payload": str(button.get("payload", ""))}


def _metadata(given: object) -> dict[str, Any]:
    """A message's metadata as an object (it may come as JSON text); anything else is dropped."""
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except ValueError:
            return {}
    return given if isinstance(given, dict) else {}


def _is_session_id(value: object) -> bool:
    """A session id a browser may resume: a short string (the widget keeps the one it was given)."""
    return isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable()


_LIST_NUMBER = re.compile(r"^(\d+)([.)])(?=\s)", flags=re.MULTILINE)


def _paragraphs(text: str) -> list[str]:
    """Rasa's split into messages at blank lines, each shown as written: single line breaks made Markdown hard
    breaks, numbers that start a line escaped so that they are not list markers."""
    parts = [part.strip() for part in text.strip().split("\n\n") if part.strip()] or [text]
    return [_LIST_NUMBER.sub(r"\1\\\2", part).replace("\n", "  \n") for part in parts]
