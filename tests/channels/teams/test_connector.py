"""The outbound client (bot/teams_connector.py) against the fake login and connector servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from teams_auth import KeySet, ServiceUrlPolicy
from teams_connector import (
    ConnectorClient,
    ConnectorError,
    ServiceUrlRefused,
    TokenError,
    activities_url,
    token_url_for,
)

from tests.channels.teams.fakes import (
    APP_ID,
    APP_PASSWORD,
    TENANT,
    FakeMicrosoft,
    SigningKeys,
    running_fake,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeMicrosoft]:
    keys = SigningKeys()
    keys.add("key-1")
    with running_fake(FakeMicrosoft(keys)) as server:
        yield server


@pytest.fixture
def clean(fake: FakeMicrosoft) -> FakeMicrosoft:
    fake.activities.clear()
    fake.token_requests.clear()
    fake.connector_status = 201
    return fake


def client(fake: FakeMicrosoft, clock: FakeClock, password: str = APP_PASSWORD) -> ConnectorClient:
    return ConnectorClient(APP_ID, password, token_url_for(fake.token_url, TENANT),
                           ServiceUrlPolicy.from_hosts(["127.0.0.1", "smba.trafficmanager.net"]), clock=clock)


async def test_the_token_comes_from_the_tenant_by_client_credentials_and_is_cached(clean: FakeMicrosoft) -> None:
    clock = FakeClock()
    connector = client(clean, clock)
    try:
        first = await connector.access_token()
        clock.now += 3600 - 301  # more than the 5-minute margin left: the cached token
        assert await connector.access_token() == first
        assert len(clean.token_requests) == 1
        request = clean.token_requests[0]
        assert request == {"tenant": TENANT, "grant_type": "client_credentials", "client_id": APP_ID,
                           "client_secret": APP_PASSWORD, "scope": "https://api.botframework.com/.default"}
        clock.now += 2  # within the margin: a new token
        assert await connector.access_token() != first
        assert len(clean.token_requests) == 2
    finally:
        await connector.close()


async def test_a_refused_secret_gives_no_token(clean: FakeMicrosoft) -> None:
    connector = client(clean, FakeClock(), password="wrong")
    try:
        with pytest.raises(TokenError, match="HTTP 401"):
            await connector.access_token()
    finally:
        await connector.close()


async def test_a_reply_is_posted_to_the_conversation_with_the_bot_token(clean: FakeMicrosoft) -> None:
    connector = client(clean, FakeClock())
    try:
        answer = await connector.send(clean.url + "/", "19:abc@thread.tacv2;messageid=17", {"type": "message",
                                                                                           "text": "hi"}, "17")
        await connector.send(clean.url, "a:1", {"type": "message", "text": "again"})
    finally:
        await connector.close()
    assert answer["id"]
    assert [r.path for r in clean.activities] == [
        "/v3/conversations/19:abc@thread.tacv2;messageid=17/activities/17", "/v3/conversations/a:1/activities"]
    assert len(clean.token_requests) == 1
    assert {r.authorization for r in clean.activities} == {f"Bearer {clean.issued_tokens()[-1]}"}
    assert [r.activity["text"] for r in clean.activities] == ["hi", "again"]


@pytest.mark.parametrize("service_url", ["https://connector.evil.example/", "http://smba.trafficmanager.net/",
                                         "http://127.0.0.2:9/"])
async def test_no_token_goes_to_a_service_url_outside_the_allow_list(clean: FakeMicrosoft, service_url: str) -> None:
    connector = client(clean, FakeClock())
    try:
        with pytest.raises(ServiceUrlRefused):
            await connector.send(service_url, "a:1", {"type": "message", "text": "hi"})
    finally:
        await connector.close()
    assert clean.token_requests == [] and clean.activities == []


async def test_a_refused_token_is_replaced_once(clean: FakeMicrosoft) -> None:
    clean.connector_status = 401
    connector = client(clean, FakeClock())
    try:
        with pytest.raises(ConnectorError, match="HTTP 401"):
            await connector.send(clean.url, "a:1", {"type": "message", "text": "hi"})
    finally:
        await connector.close()
    assert [r.authorization for r in clean.activities] == [f"Bearer {t}" for t in clean.issued_tokens()[-2:]]
    assert len(clean.token_requests) == 2


def test_activities_url_encodes_the_ids() -> None:
    assert activities_url("https://smba.trafficmanager.net/emea/", "a:1/../x", "r 1") == (
        "https://smba.trafficmanager.net/emea/v3/conversations/a%3A1%2F..%2Fx/activities/r%201")


def test_the_token_url_needs_a_tenant() -> None:
    assert token_url_for("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", "t1") == (
        "https://login.microsoftonline.com/t1/oauth2/v2.0/token")
    with pytest.raises(ValueError, match="NAVIGATOR_TEAMS_TENANT_ID"):
        token_url_for("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", "")


async def test_keys_are_read_through_the_openid_metadata_over_http(clean: FakeMicrosoft) -> None:
    connector = client(clean, FakeClock())
    try:
        keys = KeySet(clean.openid_url, connector.fetch_json)
        before = clean.key_fetches
        assert (await keys.key("key-1")).endorsements == frozenset({"msteams", "emulator"})
        assert clean.key_fetches == before + 1
    finally:
        await connector.close()
