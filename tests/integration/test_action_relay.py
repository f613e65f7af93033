"""The relay between Rasa and the Navigator service's actions (bot/action_relay.py), run in the Rasa environment
against a small local action server: answers pass unchanged, and a service that is away, slow or failing gives
the apology response instead of an empty reply. Through the running Rasa server: tests/e2e/test_faults.py."""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DRIVER = r"""
import asyncio, json, socket
from aiohttp import web
from action_relay import ActionRelayInput

ANSWER = {"events": [{"event": "slot", "name": "need", "value": "GMP"}], "responses": []}

async def action_server(request):
    mode = request.headers.get("X-Mode", "ok")
    body = await request.read()
    if mode == "slow":
        await asyncio.sleep(5)
    if mode == "fail":
        return web.json_response({"error": "boom"}, status=500)
    if mode == "reject":
        return web.json_response({"action_name": "validate_x", "error": "no"}, status=400)
    return web.json_response({**ANSWER, "echo": body.decode(), "encoding": request.headers.get("Content-Encoding")})

def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

async def main():
    app = web.Application()
    app.router.add_post("/webhook", action_server)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    results = {}
    relay = ActionRelayInput.from_credentials({"service_url": f"http://127.0.0.1:{port}/webhook", "secret": "s",
                                               "advisors_email": "advisors@slt.example.org", "timeout": 1})
    for mode in ("ok", "fail", "reject", "slow"):
        status, body, kind = await relay.relay(b'{"next_action": "action_search"}',
                                               {"Content-Type": "application/json", "X-Mode": mode,
                                                "Content-Encoding": "identity"})
        results[mode] = [status, json.loads(body), kind]
    away = ActionRelayInput.from_credentials({"service_url": f"http://127.0.0.1:{closed_port()}/webhook",
                                              "secret": "s", "advisors_email": "advisors@slt.example.org"})
    status, body, kind = await away.relay(b"{}", {"Content-Type": "application/json"})
    results["away"] = [status, json.loads(body), kind]
    import zlib
    call = {"next_action": "validate_support_request_form",
            "tracker": {"slots": {"requested_slot": "company_name", "company_name": "Acme Bio AB"}}}
    for encoding, body in (("", json.dumps(call).encode()), ("deflate", zlib.compress(json.dumps(call).encode())),
                           ("deflate", b"not deflated")):
        status, answer, kind = await away.relay(body, {"Content-Type": "application/json",
                                                       "Content-Encoding": encoding})
        results.setdefault("form", []).append(json.loads(answer))
    try:
        ActionRelayInput.from_credentials({"service_url": "http://x/webhook", "secret": ""})
        results["no_secret"] = "accepted"
    except ValueError as error:
        results["no_secret"] = str(error)
    results["name"] = ActionRelayInput.name()
    await runner.cleanup()
    print(json.dumps(results))

asyncio.run(main())
"""

APOLOGY = {"events": [], "responses": [{"response": "utter_service_unavailable",
                                        "advisors_email": "advisors@slt.example.org"}]}


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_services_answer_passes_unchanged(results) -> None:
    status, body, kind = results["ok"]
    assert status == 200 and kind.startswith("application/json")
    assert body["events"] == [{"event": "slot", "name": "need", "value": "GMP"}]
    assert body["echo"] == '{"next_action": "action_search"}' and body["encoding"] == "identity"


def test_a_rejected_action_passes_as_a_rejection(results) -> None:
    assert results["reject"][:2] == [400, {"action_name": "validate_x", "error": "no"}]


@pytest.mark.parametrize("mode", ["fail", "slow", "away"])
def test_a_failing_slow_or_absent_service_gives_the_apology(results, mode: str) -> None:
    assert results[mode][:2] == [200, APOLOGY]


def test_the_relay_needs_a_secret_and_has_its_route(results) -> None:
    assert "needs a secret" in results["no_secret"]
    assert results["name"] == "navigator_actions"


def test_in_a_form_the_unchecked_answer_is_emptied_so_that_the_form_asks_again(results) -> None:
    plain, deflated, unreadable = results["form"]
    reset = {**APOLOGY, "events": [{"event": "slot", "name": "company_name", "value": None}]}
    assert plain == reset and deflated == reset
    assert unreadable == APOLOGY  # a call it cannot read still gets the apology
