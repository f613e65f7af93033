"""Rasa's REST channel (``POST /webhooks/rest/webhook``), telling the input guard where each message came from.

The same channel as Rasa's own, at the same address and with the same name (``rest``), except that a message's
metadata also carries its :class:`message_origin.MessageOrigin` (the request's peer and ``X-Forwarded-For``), so
that the input guard (bot/input_guard.py) can hold back a client address that sends too much. The guard removes
the origin before Rasa reads the message; the ``metadata`` a client sends is kept as before when it is an object.

The launcher names it in credentials.yml as ``rest_channel.RestInput``.
"""

from __future__ import annotations

from typing import Any

from message_origin import origin_of_request, with_origin
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.request import Request


class RestInput(RasaRestInput):
    """Rasa's REST input channel with the message's origin in its metadata."""

    def get_metadata(self, request: Request) -> dict[str, Any]:
        given = request.json.get("metadata") if isinstance(request.json, dict) else None
        return with_origin(given, origin_of_request(request))
