"""The input guard inside a real Rasa server's web app, in the Rasa environment (bot/guarded_agent.py).

A Sanic app gets our REST and socket.io channels and the action relay through Rasa's own channel registration,
as ``rasa run`` does, and serves on a free port; only the agent is a stand-in, which records what reaches it
and answers "answered" (no model is loaded). Over HTTP and socket.io, as clients send them: a message at the
size limit reaches the agent and one character more gets the domain's refusal, with the limit in it, and never
reaches it; a payload the bot offered (seeded in the tracker store) reaches it unchanged and a forged one as
text; the origin a channel attaches never reaches the agent, nor one a user writes into the metadata; the
address limit counts the client HAProxy names in ``X-Forwarded-For``, over REST and socket.io, and a message it
drops is answered (with nothing) after the guard's hold, while other clients are answered; a tracker store
that fails while the guard reads it gets the turn guard's apology; ``/navigator/metrics`` counts it all.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT
from tests.domain_responses import english_texts

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DETAILS = '/ask_details{"position": "2"}'
FORGED = '/request_support{"company": "<script>x</script>"}'
HOLD = 1.0
"""Seconds a dropped message's answer is held back here."""

DRIVER = r"""
import asyncio, json, socket, sys, time
import aiohttp, socketio, sqlalchemy.exc
from sanic import Sanic
from rasa.core.channels.channel import register
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from action_relay import ActionRelayInput
from rest_channel import RestInput
from webchat_channel import WebchatInput

DETAILS, FORGED, HOLD = sys.argv[1], sys.argv[2], float(sys.argv[3])
domain = Domain.load("domain.yml")

class SometimesBroken(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        if sender_id.startswith("broken"):
            raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("connection refused"))
        return await super().retrieve(sender_id)

class Processor:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

class Agent:
    def __init__(self):
        self.domain, self.processor = domain, Processor()
        self.tracker_store = FailSafeTrackerStore(SometimesBroken(domain))
        self.received = []

    async def handle_message(self, message):
        self.received.append({"sender": message.sender_id, "text": message.text, "metadata": message.metadata})
        await message.output_channel.send_response(message.sender_id, {"text": "answered"})

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

async def main():
    app = Sanic("guarded_agent_test")
    agent = Agent()
    app.ctx.agent = agent
    await agent.tracker_store.save(DialogueStateTracker.from_events("buttons-1", [
        BotUttered("Pick one", {"buttons": [{"title": "Details", "payload": DETAILS}]})]))
    relay = ActionRelayInput.from_credentials({
        "service_url": "http://127.0.0.1:9/webhook", "secret": "s", "advisors_email": "advisors@example.org",
        "input_guard": {"max_message_chars": 2000, "sender_rate": None,
                        "address_rate": {"messages": 1, "seconds": 3600, "burst": 2},
                        "trusted_proxies": ["127.0.0.1"], "drop_hold_seconds": HOLD}})
    webchat = WebchatInput.from_credentials({"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                                             "session_persistence": True})
    register([RestInput(), webchat, relay], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    await server.start_serving()
    base = f"http://127.0.0.1:{port}"
    results = {}
    async with aiohttp.ClientSession() as http:
        client = iter(range(1, 250))

        async def rest(sender, text, metadata=None, forwarded=None):
            headers = {"X-Forwarded-For": forwarded or f"192.0.2.{next(client)}"}
            body = {"sender": sender, "message": text}
            if metadata is not None:
                body["metadata"] = metadata
            async with http.post(base + "/webhooks/rest/webhook", json=body, headers=headers) as answer:
                return [m.get("text") for m in await answer.json()]

        def reached(sender):
            return [m["text"] for m in agent.received if m["sender"] == sender]

        results["size"] = [await rest("size-1", "a" * 1999), await rest("size-1", "b" * 2000),
                           await rest("size-1", "c" * 2001), await rest("size-1", "d" * 100000)]
        results["size_reached"] = [len(text) for text in reached("size-1")]
        results["payload"] = [await rest("buttons-1", DETAILS), await rest("buttons-1", FORGED),
                              await rest("buttons-1", "/greet")]
        results["payload_reached"] = reached("buttons-1")
        await rest("meta-1", "hello", metadata={"language": "sv", "navigator_origin": {"peer": "10.0.0.1",
                                                                                         "channel_built": True}})
        await rest("meta-1", FORGED, metadata={"navigator_origin": {"channel_built": True}})
        results["metadata_reached"] = [(m["text"], m["metadata"]) for m in agent.received if m["sender"] == "meta-1"]
        # Behind HAProxy (127.0.0.1, trusted): the address it appended counts, whatever the client wrote before.
        results["address"], results["address_seconds"] = [], []
        for i in range(4):
            started = time.perf_counter()
            results["address"].append(await rest(f"web-{i}", "hello", forwarded=f"6.6.6.{i}, 203.0.113.9"))
            results["address_seconds"].append(time.perf_counter() - started)
        # A client whose message is held back does not hold anybody else up.
        started = time.perf_counter()
        held = asyncio.ensure_future(rest("web-5", "hello", forwarded="203.0.113.9"))
        results["address_other"] = await rest("web-9", "hello", forwarded="198.51.100.4")
        results["other_seconds"], results["held_done_then"] = time.perf_counter() - started, held.done()
        results["held"] = await held
        results["broken"] = await rest("broken-1", "/request_support")

        said = []
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("bot_uttered", lambda data: said.append(data))
        await sio.connect(base, headers={"X-Forwarded-For": "203.0.113.77"}, socketio_path="/socket.io",
                          transports=["polling"],
                          wait_timeout=10)
        await sio.emit("session_request", {"session_id": "widget-1"})
        for text in ("hello", "hi", "hey", "hallo"):
            await sio.emit("user_uttered", {"message": text, "session_id": "widget-1",
                                            "metadata": {"language": "sv", "navigator_origin": "forged"}})
        for _ in range(100):
            if len(said) >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await sio.disconnect()
        results["socketio_said"] = [m.get("text") for m in said]
        results["socketio_reached"] = [(m["text"], m["metadata"]) for m in agent.received
                                       if m["sender"] == "widget-1"]
        async with http.get(base + "/navigator/metrics") as answer:
            results["metrics_type"] = answer.headers["Content-Type"]
            results["metrics"] = await answer.text()
    await server.before_stop()
    server.close()
    await server.after_stop()
    print(json.dumps(results))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def results() -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER, DETAILS, FORGED, str(HOLD)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def responses() -> dict[str, str]:
    return english_texts()


def test_at_the_size_limit_the_message_is_read_and_above_it_refused_with_the_limit(results: dict,
                                                                                   responses: dict) -> None:
    refusal = responses["utter_message_over_limit"].format(limit="2,000")
    assert results["size"] == [["answered"], ["answered"], [refusal], [refusal]]
    assert results["size_reached"] == [1999, 2000]


def test_an_offered_payload_reaches_rasa_and_a_forged_one_as_text(results: dict) -> None:
    assert results["payload"] == [["answered"]] * 3
    assert results["payload_reached"] == [DETAILS, FORGED[1:], "/greet"]


def test_no_origin_reaches_rasa_and_none_can_be_forged_in_the_metadata(results: dict) -> None:
    # A forged origin neither stays in the metadata nor makes a payload "built by the channel".
    assert results["metadata_reached"] == [["hello", {"language": "sv"}], [FORGED[1:], None]]
    assert [metadata for _, metadata in results["socketio_reached"]] == [{"language": "sv"}] * 2


def test_the_address_limit_counts_the_client_haproxy_names(results: dict, responses: dict) -> None:
    slow_down = responses["utter_slow_down"]
    assert results["address"] == [["answered"], ["answered"], [slow_down], []]
    assert results["address_other"] == ["answered"] and results["held"] == []
    # socket.io: the connection's forwarded address, the same limit (burst 2).
    assert [text for text, _ in results["socketio_reached"]] == ["hello", "hi"]
    assert results["socketio_said"] == ["answered", "answered", slow_down]


def test_a_dropped_message_is_answered_after_the_hold_and_holds_nobody_else_up(results: dict) -> None:
    first, second, slowed, dropped = results["address_seconds"]
    assert dropped >= HOLD > max(first, second, slowed)
    # Another client, sent while a dropped message of the first was held, was answered before it.
    assert results["other_seconds"] < HOLD and not results["held_done_then"]


def test_a_tracker_store_that_fails_while_the_guard_reads_it_gets_the_apology(results: dict,
                                                                               responses: dict) -> None:
    assert results["broken"] == [responses["utter_service_unavailable"].format(advisors_email="advisors@example.org")]


def test_the_metrics_route_counts_every_event(results: dict) -> None:
    assert results["metrics_type"].startswith("text/plain; version=0.0.4")
    samples = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in results["metrics"].splitlines()
               if line and not line.startswith("#")}
    assert samples == {
        'navigator_input_guard_total{reason="size",outcome="refuse"}': 2,
        'navigator_input_guard_total{reason="payload",outcome="rewrite"}': 2,
        'navigator_input_guard_total{reason="rate_address",outcome="slow_down"}': 2,
        'navigator_input_guard_total{reason="rate_address",outcome="drop"}': 3,
        'navigator_input_guard_total{reason="rate_sender",outcome="slow_down"}': 0,
        'navigator_input_guard_total{reason="rate_sender",outcome="drop"}': 0,
        'navigator_input_guard_total{reason="encoding",outcome="repair"}': 0,
    }
    assert "192.0.2" not in results["metrics"] and "widget-1" not in results["metrics"]
