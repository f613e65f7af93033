"""The Navigator service answering Rasa's action calls, through aiohttp's test client."""

from __future__ import annotations

import json
import zlib

import pytest

from index.catalogue import load_catalogue
from navigator.runtime import Runtime
from navigator.service import create_app
from navigator.wiring import open_services
from navigator.settings import Settings
from support_requests.store import RequestStore


@pytest.fixture
async def client(aiohttp_client, tmp_path, sample_dir, sample_engine, embedder, processor):
    settings = Settings.from_env({"NAVIGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
                                  "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 't.db'}",
                                  "NAVIGATOR_SESSION_KEY_FILE": str(tmp_path / "session.key")})
    runtime = Runtime(settings, load_catalogue(sample_dir), embedder, processor, sample_engine, None)
    store = RequestStore.from_url(settings.database_url)
    services = open_services(settings, runtime=runtime, store=store)
    yield await aiohttp_client(create_app(settings, services=services))
    services.close()


def action_call(action: str, text: str, intent: str = "describe_need", slots: dict | None = None) -> dict:
    return {
        "next_action": action,
        "sender_id": "conversation-9",
        "version": "3.6.21",
        "domain": {"slots": {}, "responses": {}, "forms": {}},
        "tracker": {
            "sender_id": "conversation-9",
            "slots": slots or {},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
            "events": [{"event": "user", "text": text, "timestamp": 1.0}],
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        },
    }


async def test_health_reports_the_catalogue(client) -> None:
    response = await client.get("/health")
    assert response.status == 200 and (await response.json()) == {"status": "ok", "entries": 7}


async def test_an_action_call_returns_events_and_responses(client) -> None:
    response = await client.post("/webhook", json=action_call("action_search_catalogue",
                                                                "GMP manufacturing of viral vectors"))
    assert response.status == 200
    body = await response.json()
    assert [r.get("response") for r in body["responses"]][:2] == ["utter_results_intro", "utter_hit"]
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots["last_hits"][0] == "vecura-gmp"


async def test_a_compressed_action_call_is_accepted(client) -> None:
    body = zlib.compress(json.dumps(action_call("action_flag_for_advisor", "a person please", "ask_human")).encode())
    response = await client.post("/webhook", data=body, headers={"Content-Encoding": "deflate",
                                                                 "Content-Type": "application/json"})
    assert response.status == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "JSON action call"),
        (b"[1, 2]", 400, "next_action"),
        (json.dumps({"tracker": {}}).encode(), 400, "next_action"),
    ],
)
async def test_malformed_calls_get_400(client, body: bytes, status: int, message: str) -> None:
    response = await client.post("/webhook", data=body, headers={"Content-Type": "application/json"})
    assert response.status == status and message in (await response.json())["error"]


async def test_unknown_action_gets_404(client) -> None:
    response = await client.post("/webhook", json=action_call("action_does_not_exist", "x"))
    assert response.status == 404 and (await response.json())["action_name"] == "action_does_not_exist"


async def test_every_domain_action_is_served(client) -> None:
    import yaml

    from navigator.settings import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text())
    served = {a["name"] for a in await (await client.get("/actions")).json()}
    names = {a if isinstance(a, str) else next(iter(a)) for a in domain["actions"]}
    assert names <= served


async def test_a_call_without_domain_is_answered(client) -> None:
    call = action_call("action_search_catalogue", "flow cytometry cell sorting")
    del call["domain"]  # selective domain: Rasa leaves it out for actions that do not need it
    response = await client.post("/webhook", json=call)
    assert response.status == 200 and (await response.json())["responses"]
