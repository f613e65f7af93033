"""Generated hostile messages against the running assistant (the session's ``stack``), over Rasa's REST channel and
the widget's socket.io channel: a bounded run with fixed examples (Hypothesis, derandomised), a few hundred
messages.

Every class of tests/fuzz/strategies.py is sent: Unicode of every category, controls, lone surrogates (escaped in
the JSON body, and as the raw bytes UTF-8 forbids), oversized and maximum-size text, JSON, the payload syntax,
and nothing or only whitespace. Each message comes from a sender of its own over REST, and at most four from one
session over socket.io, so that the sender limit of the session's assistant (a burst of 30, tests/conftest.py
``STACK_LIMITS``) drops none of them: a dropped message gets no answer by design (docs/input-limits.md).

What must hold: no server error (no HTTP 5xx, no exception in the Rasa server's or the service's log), every
message answered with at least one message and none of them an apology for a failure, an oversized message
answered with the refusal alone, no text in the payload syntax taken as a payload (the conversation stores it
as text, but for the open ``/greet``), a body that is not the channel's JSON answered 400, and the Rasa server's
memory after the run within 10% of before (read after a warm-up of a few turns).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from input_guard import OPEN_PAYLOADS, is_payload
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from navigator.settings import PROJECT_ROOT
from tests.e2e.conftest import ResponseNames
from tests.fuzz.client import (
    Exchange,
    LogWatch,
    SocketioUser,
    Tally,
    request_body,
    rest_exchange,
)
from tests.fuzz.strategies import MESSAGE_CLASSES, generated_messages

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REST_MESSAGES = 240
SOCKETIO_USERS = 4
SOCKETIO_MESSAGES = 96
MESSAGES_PER_SESSION = 4
WARM_UP = ("hello", "flow cytometry in Flemingsberg", "show more", "thanks", ("flow cytometry " * 134)[:2000])
"""Turns before the memory is read: the first turns of a new server load what they use, and the first message of
the maximum size grows the NLU's buffers once."""


@pytest.fixture(scope="module")
def names() -> ResponseNames:
    return ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


def rasa_rss(stack) -> int:
    """Resident memory of the Rasa server's process and its children, in bytes."""
    running, _ = stack
    _, rasa = running.supervisor.children
    root = psutil.Process(rasa.process.pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def log_watch(stack) -> LogWatch:
    running, _ = stack
    return LogWatch(running.run_dir / "rasa.log", running.run_dir / "service.log")


def send_rest(rasa_url: str, messages: list[tuple[str, str]]) -> Iterator[Exchange]:
    def one(message: tuple[str, str]) -> Exchange:
        label, text = message
        return rest_exchange(rasa_url, f"fuzz-{uuid.uuid4().hex[:12]}", text, label)

    with ThreadPoolExecutor(4) as pool:
        yield from pool.map(one, messages)


async def send_socketio(rasa_url: str, messages: list[tuple[str, str]], users: int) -> list[Exchange]:
    async def talk(share: list[tuple[str, str]], transport: str) -> list[Exchange]:
        user = SocketioUser(rasa_url, transport=transport, handle_sigint=False)
        await user.connect()
        try:
            return await user.exchanges(share, MESSAGES_PER_SESSION)
        finally:
            await user.close()

    shares = [messages[i::users] for i in range(users)]
    # Half the users on websocket, half on long polling (where rasa-webchat starts).
    talks = (talk(share, ("websocket", "polling")[number % 2]) for number, share in enumerate(shares))
    return [exchange for done in await asyncio.gather(*talks) for exchange in done]


def test_generated_messages_over_rest_and_socketio_are_all_answered_without_a_server_error(stack, names) -> None:
    running, _ = stack
    for text in WARM_UP:
        rest_exchange(running.rasa_url, "fuzz-warm-up", text)
    logs, rss_before = log_watch(stack), rasa_rss(stack)
    rest_messages = generated_messages(REST_MESSAGES)
    socketio_messages = generated_messages(SOCKETIO_MESSAGES, salt=1)
    exchanges = list(send_rest(running.rasa_url, rest_messages))
    exchanges += asyncio.run(send_socketio(running.rasa_url, socketio_messages, SOCKETIO_USERS))
    tally = Tally()
    for exchange in exchanges:
        tally.add(exchange, names)
    rss_after = rasa_rss(stack)
    print(f"fuzz: {tally.messages} messages, {tally.server_errors} server errors, {tally.empty_replies} empty "
          f"replies, {tally.other_problems} other problems; Rasa RSS {rss_before / 2**20:.0f} -> "
          f"{rss_after / 2**20:.0f} MiB; {dict(sorted(tally.by_class.items()))}")
    assert tally.messages == REST_MESSAGES + SOCKETIO_MESSAGES
    assert {label for label, _ in rest_messages} == set(MESSAGE_CLASSES)
    assert (tally.server_errors, tally.empty_replies, tally.other_problems) == (0, 0, 0), tally.examples
    assert logs.failures() == []
    assert abs(rss_after - rss_before) <= 0.10 * rss_before
    # No payload-looking text was taken as a payload: the conversation stored it as text, unless it was /greet.
    forged = [e for e in exchanges if e.channel == "rest" and e.label == "payload"]
    stored = stored_user_texts(stack, [e.sender for e in forged])
    assert len(stored) == len(forged)
    taken = [said for said in stored if is_payload(said) and said.strip() not in OPEN_PAYLOADS
             and said.replace("/", "").strip()]
    assert taken == []


def stored_user_texts(stack, senders: list[str]) -> list[str]:
    """The text of the first user message Rasa stored for each of ``senders``."""
    _, settings = stack
    engine = create_engine(settings.tracker_db_url)
    found = []
    try:
        with engine.connect() as connection:
            for sender in senders:
                row = connection.execute(sql("SELECT data FROM events WHERE sender_id = :sender AND type_name = "
                                              "'user' ORDER BY id LIMIT 1"), {"sender": sender}).first()
                if row is not None:
                    found.append(json.loads(row[0])["text"])
    finally:
        engine.dispose()
    return found


MALFORMED = [
    b"[1, 2]",
    b'"hello"',
    b"null",
    b'{"sender": "fuzz-malformed", "message": 42}',
    b'{"sender": "fuzz-malformed", "message": ["hello"]}',
    b'{"sender": "fuzz-malformed", "message": {"text": "hello"}}',
    b'{"sender": ["fuzz"], "message": "hello"}',
    b'{"sender": "fuzz-malformed"}',
    b'{"sender": "fuzz-malformed", "message": "hello", "input_channel": 7}',
    b'{"sender": "fuzz-malformed", "message": "hel',
    b"\xff\xfe{",
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_a_body_that_is_not_the_channels_json_is_answered_400_without_an_exception(stack, body: bytes) -> None:
    running, _ = stack
    logs = log_watch(stack)
    exchange = rest_exchange(running.rasa_url, "", "", "malformed", body=body)
    assert exchange.error is None and exchange.status == 400
    assert logs.failures() == []


def test_lone_surrogates_as_json_escapes_and_as_raw_bytes_are_answered(stack, names) -> None:
    """Browsers send a lone surrogate as JSON's escape; a client can also send the bytes UTF-8 forbids
    (``\xed\xa0\x80``), which the server's JSON parser (ujson) reads as the same surrogate."""
    running, _ = stack
    logs = log_watch(stack)
    for text in ("flow cytometry \ud800", "\udfff", "GMP \ud83d vector", "\ud800" * 2001):
        for raw in (False, True):
            sender = f"fuzz-{uuid.uuid4().hex[:12]}"
            answered = rest_exchange(running.rasa_url, sender, text, "surrogates", raw=raw)
            assert answered.problem(names) is None, answered
        assert json.loads(request_body(sender, text))["message"] == text
    assert logs.failures() == []


@pytest.mark.parametrize("said", ["restart", "/restart", "//restart@nan{}{", "\u3000/restart}"])
def test_restarting_is_answered(stack, names, said: str) -> None:
    """A restart (typed, or a payload no button offered, which the guard makes text) was answered with nothing."""
    running, _ = stack
    sender = f"fuzz-{uuid.uuid4().hex[:12]}"
    rest_exchange(running.rasa_url, sender, "hello")
    restarted = rest_exchange(running.rasa_url, sender, said, "payload")
    assert restarted.problem(names) is None, restarted
    if said.strip("/") == "restart":
        assert names.of(restarted.replies[0]) == "utter_restart"
