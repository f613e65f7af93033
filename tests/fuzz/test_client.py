"""The fuzz runs' client and judgement (tests/fuzz/client.py), against local stand-ins: a python-socketio server
that answers as the widget's channel does (replies to the session's room, then the handler returns), and the
verdict on each exchange.

The socket.io client reads exactly the replies of each message, none of the next one's, and an empty turn as
empty, from the loopback address it was given; the generated messages are balanced across the classes and the
same for the same seed; an exchange is judged a server error, an empty reply or a wrong answer as it should be.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import socketio
from aiohttp import web

from navigator.settings import PROJECT_ROOT
from tests.e2e.conftest import ResponseNames
from tests.fuzz.client import Exchange, SocketioUser, Tally
from tests.fuzz.strategies import MESSAGE_CLASSES, generated_messages

NAMES = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")
OVER_LIMIT = {"text": "That message is too long for me to read: please keep it to 2,000 characters or fewer. A few "
                      "sentences about the need are usually enough."}


async def test_the_socketio_client_reads_each_turns_replies_exactly() -> None:
    server = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    server.attach(app)
    peers: list[str] = []

    @server.on("session_request")
    async def session_request(sid: str, data: dict) -> None:
        await server.enter_room(sid, data["session_id"])
        await server.emit("session_confirm", data["session_id"], room=sid)

    @server.on("user_uttered")
    async def user_uttered(sid: str, data: dict) -> None:
        peers.append(server.get_environ(sid)["aiohttp.request"].remote)
        for number in range(len(data["message"].strip()) % 4):  # "" gets nothing, "abc" three replies
            await asyncio.sleep(0.01)
            await server.emit("bot_uttered", {"text": f"{data['message']} {number}"}, room=data["session_id"])

    runner = web.AppRunner(app, shutdown_timeout=0.5)  # not waiting for the long poll still pending
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for transport in ("websocket", "polling"):
            user = SocketioUser(f"http://127.0.0.1:{port}", source="127.0.5.9", transport=transport,
                                handle_sigint=False)
            await user.connect()
            said = {text: await user.exchange(text, "test") for text in ("abc", "a", "  ", "ab", "x\ud800")}
            first = user.session_id
            assert await user.new_session() != first
            said["again"] = await user.exchange("abc")
            await user.close()
            assert [len(e.replies) for e in said.values()] == [3, 1, 0, 2, 2, 3]
            assert said["ab"].replies == [{"text": "ab 0"}, {"text": "ab 1"}]
            assert said["x\ud800"].replies[0] == {"text": "x\ud800 0"}  # a lone surrogate travels as JSON's escape
            assert all(e.error is None and e.channel == "socketio" for e in said.values())
    finally:
        await runner.cleanup()
    assert set(peers) == {"127.0.5.9"}


def test_generated_messages_are_balanced_and_repeatable() -> None:
    messages = generated_messages(80)
    assert Counter(label for label, _ in messages) == dict.fromkeys(MESSAGE_CLASSES, 10)
    assert [label for label, _ in messages[:len(MESSAGE_CLASSES)]] == sorted(MESSAGE_CLASSES)
    assert generated_messages(80) == messages and generated_messages(80, salt=1) != messages


def exchange(text: str, replies: list[dict], status: int | None = 200, error: str | None = None) -> Exchange:
    return Exchange("rest", "test", text, status, replies, error, 0.01)


def test_each_exchange_is_judged() -> None:
    hello = [{"text": "Sorry, I didn't quite understand. Could you say it another way?"}]
    assert exchange("hej", hello).problem(NAMES) is None
    assert exchange("x" * 2001, [OVER_LIMIT]).problem(NAMES) is None
    assert exchange(" " + "x" * 2000 + " ", hello).problem(NAMES) is None  # trimmed, it is within the limit
    assert exchange("x" * 2001, hello).problem(NAMES).startswith("oversized message answered with")
    assert exchange("hej", []).problem(NAMES) == "empty reply"
    assert exchange("hej", [], None, "ConnectionResetError").problem(NAMES).startswith("server error")
    assert exchange("hej", [], 400).problem(NAMES) == "HTTP 400"
    apology = [{"text": "Sorry, the search is not available right now. Please try again in a minute, or write to "
                        "advisors@example.org."}]
    assert exchange("hej", apology).problem(NAMES).startswith("failure answer")
    tally = Tally()
    for judged in (exchange("a", hello), exchange("b", []), exchange("c", [], 502, "HTTP 502"),
                   exchange("d", apology)):
        tally.add(judged, NAMES)
    assert (tally.messages, tally.server_errors, tally.empty_replies, tally.other_problems) == (4, 1, 1, 1)
    assert tally.by_class == {"rest/test": 4} and len(tally.examples) == 3
