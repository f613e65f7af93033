"""Rasa's REST channel (``POST /webhooks/rest/webhook``), telling the input guard where each message came from.

The same channel as Rasa's own, at the same address and with the same name (``rest``), except that:

- a message's metadata also carries its :class:`message_origin.MessageOrigin` (the request's peer and
  ``X-Forwarded-For``), so that the input guard (bot/input_guard.py) can hold back a client address that sends
  too much. The guard removes the origin before Rasa reads the message; the ``metadata`` a client sends is kept as
  before when it is an object;
- a body that is not a JSON object, or whose ``message`` is not a string (or whose ``sender`` or
  ``input_channel``, when given, is not one), is answered 400 with what is wrong. Rasa's own channel fails on such
  a body with a server error (a list) or logs an exception and answers nothing (a number as the message).

The launcher names it in credentials.yml as ``rest_channel.RestInput``.
"""

from __future__ import annotations

from typing import Any

from message_origin import origin_of_request, with_origin
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request


class RestInput(RasaRestInput):
    """Rasa's REST input channel with the message's origin in its metadata and its body checked."""

    async def _extract_sender(self, req: Request) -> str | None:
        return _text_field(req, "sender", required=False)

    def _extract_message(self, req: Request) -> str | None:
        return _text_field(req, "message", required=True)

    def _extract_input_channel(self, req: Request) -> str:
        return _text_field(req, "input_channel", required=False) or self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        given = request.json.get("metadata") if isinstance(request.json, dict) else None
        return with_origin(given, origin_of_request(request))


def _text_field(request: Request, key: str, *, required: bool) -> str | None:
    """``key`` of the request's JSON object: a string, or None when it is absent and not required.

    Raises:
        InvalidUsage: (Sanic's 400) the body is not a JSON object, or the field is not a string.
    """
    body = request.json  # Sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise InvalidUsage('the body must be a JSON object such as {"sender": "...", "message": "..."}')
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidUsage(f"'{key}' must be a string")
    return value
