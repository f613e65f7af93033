"""The Rasa socket.io channel for the website widget (bot/webchat_channel.py), run in the Rasa environment.

The channel's output is driven through Rasa's own ``OutputChannel.send_response`` (as the Rasa server calls
it) with a recording stand-in for python-socketio's server, and the messages it would emit are compared with
what rasa-webchat renders: plain texts, ``{"text", "buttons"}``, and custom payloads wrapped in ``custom``.
The browser tests cover the same channel end to end.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DRIVER = r"""
import asyncio, json, sys
from webchat_channel import WebchatInput, WebchatOutput

class RecordingServer:
    def __init__(self):
        self.emitted = []
    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append({"event": event, "data": data, "room": room})

async def main():
    server = RecordingServer()
    output = WebchatOutput(server, "bot_uttered")
    for message in json.loads(sys.stdin.read()):
        await output.send_response("session-1", message)
    print(json.dumps(server.emitted))
    channel = WebchatInput.from_credentials({"session_persistence": True})
    print(json.dumps([type(channel).__name__, channel.session_persistence, channel.name()]))

asyncio.run(main())
"""


def run_channel(messages: list[dict[str, object]]) -> tuple[list[dict[str, object]], list[object]]:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], input=json.dumps(messages), capture_output=True,
                          text=True, cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    emitted, channel = done.stdout.strip().splitlines()[-2:]
    return json.loads(emitted), json.loads(channel)


def test_messages_take_the_shapes_the_widget_renders() -> None:
    emitted, channel = run_channel([
        {"text": "1. Vecura GMP facility, Karolinska University Hospital (Flemingsberg).",
         "buttons": [{"title": "Details", "payload": "/ask_details{\"position\": \"1\"}"},
                     {"title": "Web page", "url": "https://example.org/vecura"},
                     {"title": "Sneaky", "url": "javascript:alert(1)", "payload": "/greet"}]},
        {"text": "Vecura GMP facility\nServices: GMP manufacturing\n\nMore: https://example.org"},
        {"custom": {"type": "search_results", "hits": [{"id": "vecura-gmp"}]}},
    ])
    assert [e["event"] for e in emitted] == ["bot_uttered"] * 4
    assert {e["room"] for e in emitted} == {"session-1"}
    assert [e["data"] for e in emitted] == [
        {"text": "1\\. Vecura GMP facility, Karolinska University Hospital (Flemingsberg).",
         "buttons": [{"type": "postback", "title": "Details", "payload": "/ask_details{\"position\": \"1\"}"},
                     {"type": "web_url", "title": "Web page", "url": "https://example.org/vecura"},
                     {"type": "postback", "title": "Sneaky", "payload": "/greet"}]},
        {"text": "Vecura GMP facility  \nServices: GMP manufacturing"},
        {"text": "More: https://example.org"},
        {"custom": {"type": "search_results", "hits": [{"id": "vecura-gmp"}]}},
    ]
    assert channel == ["WebchatInput", True, "socketio"]
