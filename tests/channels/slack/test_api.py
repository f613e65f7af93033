"""The Web API client (bot/slack_api.py) against the local fake Slack: bearer token, 429s retried with their
Retry-After and bounded, Slack's errors raised, response URLs only at allowed hosts."""

from __future__ import annotations

import pytest
from slack_api import SlackApiError, SlackRateLimited, SlackWebClient

from tests.channels.slack.fake_slack import FakeSlack
from tests.channels.slack.payloads import BOT_TOKEN


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def slack():
    async with FakeSlack(BOT_TOKEN) as fake:
        yield fake


def client(slack: FakeSlack, sleeps: Sleeps, token: str = BOT_TOKEN, **options: object) -> SlackWebClient:
    return SlackWebClient(slack.api_url + "/", token, sleep=sleeps, **options)


async def test_a_message_is_posted_with_the_bot_token_and_no_unfurling(slack: FakeSlack) -> None:
    web = client(slack, Sleeps())
    answer = await web.post_message("D0ALICE", {"text": "hi", "blocks": []}, thread_ts="1.5")
    await web.close()
    assert answer["ok"] is True
    [call] = slack.recorded()
    assert call.method == "chat.postMessage" and call.authorization == f"Bearer {BOT_TOKEN}"
    assert call.body == {"text": "hi", "blocks": [], "channel": "D0ALICE", "thread_ts": "1.5", "unfurl_links": False,
                         "unfurl_media": False, "link_names": False}


async def test_rate_limits_are_waited_out_as_slack_asks(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.rate_limit(1, "2")
    slack.rate_limit(1, None)
    web = client(slack, sleeps)
    await web.post_message("D0ALICE", {"text": "hi"})
    await web.close()
    assert sleeps.waits == [2.0, 1.0]
    assert len(slack.recorded("chat.postMessage")) == 3


async def test_rate_limits_are_retried_a_bounded_number_of_times(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.rate_limit(10, "0")
    web = client(slack, sleeps, max_retries=3)
    with pytest.raises(SlackRateLimited):
        await web.post_message("D0ALICE", {"text": "hi"})
    await web.close()
    assert len(slack.recorded()) == 4 and sleeps.waits == [0.0, 0.0, 0.0]


async def test_a_wait_longer_than_allowed_gives_up_at_once(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.rate_limit(1, "3600")
    web = client(slack, sleeps, max_retry_after=30)
    with pytest.raises(SlackRateLimited):
        await web.post_message("D0ALICE", {"text": "hi"})
    await web.close()
    assert sleeps.waits == [] and len(slack.recorded()) == 1


async def test_slacks_errors_are_raised(slack: FakeSlack) -> None:
    web = client(slack, Sleeps(), token="xoxb-wrong")
    with pytest.raises(SlackApiError) as failed:
        await web.post_message("D0ALICE", {"text": "hi"})
    await web.close()
    assert failed.value.error == "invalid_auth"


async def test_response_urls_are_posted_only_at_slack_or_the_api_host(slack: FakeSlack) -> None:
    web = client(slack, Sleeps())
    await web.respond(slack.response_url("r1"), {"response_type": "ephemeral", "text": "x"})
    for elsewhere in ("http://127.0.0.1:9/response/x", "https://evil.example/hooks", "https://hooks.slack.com.evil/x",
                      f"{slack.url.replace('127.0.0.1', 'user@127.0.0.1')}/response/x"):
        with pytest.raises(SlackApiError):
            await web.respond(elsewhere, {"text": "x"})
    await web.close()
    assert [c.method for c in slack.recorded()] == ["response_url"]
    assert web.response_url_allowed("https://hooks.slack.com/commands/T1/2/3")
