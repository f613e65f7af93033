"""The request signature check (bot/slack_signing.py): Slack's documented example, and the forgery table."""

from __future__ import annotations

import pytest
from slack_signing import SlackSignatureError, sign, verify

from tests.channels.slack.payloads import SECRET, event_body, forgeries, signed

NOW = 1_700_000_000.0


def test_signature_matches_slacks_documented_example() -> None:
    # https://api.slack.com/authentication/verifying-requests-from-slack
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRs"
            b"kXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    assert sign(SECRET, "1531420618", body) == \
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.mark.parametrize("skew", [0, 299, -299, 300, -300])
def test_a_signed_request_within_five_minutes_is_taken(skew: int) -> None:
    headers, body = signed(event_body("hello", event_id="Ev1"), NOW + skew)
    verify(SECRET, headers, body, NOW)
    verify(SECRET, {k.lower(): v for k, v in headers.items()}, body, NOW)


def test_the_forgery_table_is_large_enough() -> None:
    assert len(forgeries(NOW)) >= 20


@pytest.mark.parametrize("forgery", forgeries(NOW), ids=lambda f: f.name)
def test_every_forgery_is_refused_with_its_reason(forgery) -> None:
    with pytest.raises(SlackSignatureError) as refused:
        verify(SECRET, forgery.headers, forgery.body, NOW)
    assert refused.value.reason == forgery.reason


def test_without_a_secret_nothing_is_taken() -> None:
    headers, body = signed(b"{}", NOW, secret="")
    with pytest.raises(SlackSignatureError):
        verify("", headers, body, NOW)
