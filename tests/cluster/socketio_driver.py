"""A socket.io user of the chat widget's channel, run in the Rasa environment (.venv-rasa has python-socketio).

Usage: ``python socketio_driver.py URL SESSION_ID``. It connects with Engine.IO's long-polling transport, which
rasa-webchat starts with (path ``/socket.io/``), and stays on it: python-engineio's websocket client needs a
newer aiohttp than Rasa's; long polling is also the transport that needs the balancer's stickiness, each poll
being a request of its own. It asks for its session, and then reads one JSON command per line on standard input
and answers each with one JSON line on standard output:

- ``{"say": TEXT}``: send TEXT; answers ``{"replies": [...]}``, the bot's messages until none came for a second.
- ``{"await_reconnect": SECONDS}``: wait until the connection was lost and made again and the session
  confirmed again; answers ``{"reconnected": true, "seconds": S}`` (S from the loss) or ``{"reconnected": false}``.
- ``{"quit": true}``: disconnect and stop.

Like the widget, it asks for its session again (``session_request`` with the same id) after each reconnection.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import socketio

QUIET_SECONDS = 1.0
REPLY_TIMEOUT = 120.0


async def main(url: str, session_id: str) -> None:
    client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0)
    replies: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    lost_at: list[float] = []

    @client.on("connect")
    async def connected() -> None:
        await client.emit("session_request", {"session_id": session_id})

    @client.on("disconnect")
    async def disconnected(*_) -> None:
        confirmed.clear()
        lost_at.append(time.monotonic())

    @client.on("session_confirm")
    async def session_confirmed(*_) -> None:
        confirmed.set()

    @client.on("bot_uttered")
    async def bot_uttered(message) -> None:
        await replies.put(message)

    await client.connect(url, socketio_path="/socket.io/", transports=["polling"])
    await asyncio.wait_for(confirmed.wait(), 30)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if "say" in command:
            await client.emit("user_uttered", {"message": command["say"], "session_id": session_id})
            got = [await asyncio.wait_for(replies.get(), REPLY_TIMEOUT)]
            while True:
                try:
                    got.append(await asyncio.wait_for(replies.get(), QUIET_SECONDS))
                except asyncio.TimeoutError:  # noqa: UP041 (not TimeoutError on Python 3.10)
                    break
            answer = {"replies": got}
        elif "await_reconnect" in command:
            deadline = time.monotonic() + float(command["await_reconnect"])
            while time.monotonic() < deadline and not (lost_at and confirmed.is_set()):
                await asyncio.sleep(0.05)
            answer = ({"reconnected": True, "seconds": time.monotonic() - lost_at[0]}
                      if lost_at and confirmed.is_set() else {"reconnected": False})
        else:
            break
        print(json.dumps(answer), flush=True)
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
