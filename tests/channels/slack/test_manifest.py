"""The Slack app manifest (docs/slack-app-manifest.yml) asks for exactly what the channel uses."""

from __future__ import annotations

import re

import yaml

from navigator.settings import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / "docs" / "slack-app-manifest.yml"
WEBHOOK = "https://rasa.example.org/webhooks/slack/webhook"


def test_the_manifest_asks_for_exactly_the_scopes_and_events_the_channel_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == ["app_mentions:read", "chat:write", "commands",
                                                                 "im:history"]
    assert "user" not in manifest["oauth_config"]["scopes"]
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == ["app_mention", "message.im"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/navigator"]
    urls = {manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"], manifest["features"]["slash_commands"][0]["url"]}
    assert urls == {WEBHOOK}
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_the_channel_calls_no_web_api_method_the_scopes_do_not_cover() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "bot").glob("slack_*.py")))
    sources += (PROJECT_ROOT / "support_requests" / "slack_notice.py").read_text(encoding="utf-8")
    # Method names as the code passes them: a string literal ("chat.postMessage") or a URL's last part.
    methods = set(re.findall(r'["/]((?:admin|apps|auth|bots|chat|conversations|files|im|reactions|team|users|views)'
                             r'\.[A-Za-z.]+)\b', sources))
    assert methods == {"chat.postMessage"}
    # The events the channel reads are the manifest's: message (in direct messages only) and app_mention.
    events = (PROJECT_ROOT / "bot" / "slack_events.py").read_text(encoding="utf-8")
    assert 'kind not in ("message", "app_mention")' in events and '"channel_type") != "im"' in events
