"""The Bot Connector token validator (bot/teams_auth.py) against forged and broken requests, on a fake clock and
an in-process key source (the HTTP fakes are exercised in test_connector.py and the end-to-end tests)."""

from __future__ import annotations

from typing import Any

import pytest

import teams_auth
from teams_auth import BotConnectorAuthenticator, KeySet, ServiceUrlPolicy, TeamsAuthError
from tests.channels.teams.fakes import APP_ID, SigningKeys, message
from tests.channels.teams.forgeries import FORGERIES, Forgery

NOW = 1_767_607_200.0  # 2026-01-05T10:00:00Z; every time here is relative to this fake "now"
SERVICE_URL = "http://127.0.0.1:9/"
OPENID = "https://login.example/openid"
JWKS = "https://login.example/keys"
POLICY = ServiceUrlPolicy.from_hosts(["127.0.0.1", "smba.trafficmanager.net", "*.botframework.com"])


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class KeyServer:
    """The metadata and key documents served from memory, counting fetches of the keys."""

    def __init__(self, keys: SigningKeys):
        self.keys = keys
        self.key_fetches = 0

    async def fetch_json(self, url: str) -> Any:
        if url == OPENID:
            return {"jwks_uri": JWKS}
        assert url == JWKS
        self.key_fetches += 1
        return self.keys.jwks()


@pytest.fixture(scope="module")
def keys() -> SigningKeys:
    made = SigningKeys()
    made.add("key-1")
    return made


def authenticator(keys: SigningKeys, clock: FakeClock | None = None) -> tuple[BotConnectorAuthenticator, KeyServer]:
    clock = clock or FakeClock(NOW)
    server = KeyServer(keys)
    key_set = KeySet(OPENID, server.fetch_json, clock=clock, refetch_interval=60.0)
    return BotConnectorAuthenticator(APP_ID, key_set, POLICY, clock=clock), server


def test_the_table_has_at_least_twenty_forgeries() -> None:
    assert len(FORGERIES) >= 20
    assert len({f.name for f in FORGERIES}) == len(FORGERIES)


@pytest.mark.parametrize("forgery", FORGERIES, ids=lambda f: f.name)
async def test_forged_or_broken_requests_are_refused(keys: SigningKeys, forgery: Forgery) -> None:
    check, _ = authenticator(keys)
    header, activity = forgery.build(keys, SERVICE_URL, NOW)
    with pytest.raises(TeamsAuthError) as refused:
        await check.authenticate(header, activity)
    assert refused.value.status == forgery.status, str(refused.value)
    assert "29:user" not in str(refused.value)  # no user id in what gets logged


async def test_a_valid_token_is_accepted_and_its_claims_returned(keys: SigningKeys) -> None:
    check, server = authenticator(keys)
    verified = await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=NOW)}", message(SERVICE_URL))
    assert verified.claims["aud"] == APP_ID and verified.claims["serviceurl"] == SERVICE_URL
    assert server.key_fetches == 1


@pytest.mark.parametrize("claims", [{"nbf": int(NOW) + 299}, {"exp": int(NOW) - 299, "nbf": int(NOW) - 4000}],
                         ids=["nbf within the leeway", "exp within the leeway"])
async def test_clock_skew_within_five_minutes_is_accepted(keys: SigningKeys, claims: dict[str, int]) -> None:
    check, _ = authenticator(keys)
    await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=NOW, **claims)}", message(SERVICE_URL))


async def test_the_scheme_is_case_insensitive_and_a_wildcard_host_is_allowed_over_https(keys: SigningKeys) -> None:
    check, _ = authenticator(keys)
    url = "https://europe.botframework.com/"
    await check.authenticate(f"bearer {keys.token(url, now=NOW)}", message(url))


async def test_a_rotated_in_key_is_fetched_once_and_unknown_kids_do_not_flood_the_key_server() -> None:
    keys = SigningKeys()
    keys.add("key-1")
    clock = FakeClock(NOW)
    check, server = authenticator(keys, clock)
    await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=NOW)}", message(SERVICE_URL))
    assert server.key_fetches == 1

    keys.add("key-2")  # Microsoft rotates a key in; the first token signed with it must pass
    clock.now += 120
    for _ in range(3):
        await check.authenticate(f"Bearer {keys.token(SERVICE_URL, kid='key-2', now=clock.now)}",
                                 message(SERVICE_URL))
    assert server.key_fetches == 2

    forger = SigningKeys()
    forger.add("forged-kid")
    for _ in range(10):
        with pytest.raises(teams_auth.Unauthorized):
            await check.authenticate(f"Bearer {forger.token(SERVICE_URL, kid='forged-kid', now=clock.now)}",
                                     message(SERVICE_URL))
    assert server.key_fetches == 2  # within the refetch interval of the last fetch: no new fetch

    clock.now += 61
    with pytest.raises(teams_auth.Unauthorized):
        await check.authenticate(f"Bearer {forger.token(SERVICE_URL, kid='forged-kid', now=clock.now)}",
                                 message(SERVICE_URL))
    assert server.key_fetches == 3  # one more fetch per interval, however many forged kids arrive


async def test_keys_are_refreshed_after_a_day(keys: SigningKeys) -> None:
    clock = FakeClock(NOW)
    check, server = authenticator(keys, clock)
    await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=clock.now)}", message(SERVICE_URL))
    clock.now += 24 * 3600
    await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=clock.now)}", message(SERVICE_URL))
    assert server.key_fetches == 2


async def test_an_unreachable_key_server_refuses_the_request() -> None:
    async def failing(url: str) -> Any:
        raise ConnectionError("down")

    keys = SigningKeys()
    keys.add("key-1")
    check = BotConnectorAuthenticator(APP_ID, KeySet(OPENID, failing, clock=FakeClock(NOW)), POLICY,
                                      clock=FakeClock(NOW))
    with pytest.raises(teams_auth.KeyFetchError) as refused:
        await check.authenticate(f"Bearer {keys.token(SERVICE_URL, now=NOW)}", message(SERVICE_URL))
    assert refused.value.status == 401


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://smba.trafficmanager.net/emea/", True),
    ("https://smba.trafficmanager.net:443/amer/", True),
    ("https://SMBA.trafficmanager.net/emea/", True),
    ("https://europe.botframework.com/", True),
    ("https://a.b.botframework.com/", True),
    ("http://127.0.0.1:8123/", True),
    ("https://127.0.0.1:8123/", True),
    ("https://botframework.com/", False),
    ("https://evilbotframework.com/", False),
    ("https://botframework.com.evil.example/", False),
    ("http://smba.trafficmanager.net/emea/", False),
    ("http://europe.botframework.com/", False),
    ("https://smba.trafficmanager.net@evil.example/", False),
    ("https://user:pw@smba.trafficmanager.net/", False),
    ("https://smba.trafficmanager.net/emea/?next=https://evil.example", False),
    ("ftp://smba.trafficmanager.net/", False),
    ("http://127.0.0.2:8123/", False),
    ("http://localhost:8123/", False),
    ("https://smba.trafficmanager.net:notaport/", False),
    ("", False),
    (None, False),
])
def test_service_url_policy(url: str | None, allowed: bool) -> None:
    assert POLICY.allows(url) is allowed


def test_plain_http_is_allowed_only_for_a_listed_loopback_host() -> None:
    listed = ServiceUrlPolicy.from_hosts("10.0.0.5, localhost")
    assert listed.allows("http://localhost:3978/")
    assert not listed.allows("http://10.0.0.5/")
    assert listed.allows("https://10.0.0.5/")
    assert ServiceUrlPolicy().allows("https://smba.trafficmanager.net/emea/")
