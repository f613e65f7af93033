"""Slack requests as Slack sends them, signed or forged, for the Slack channel's tests.

Each builder returns ``(headers, body)``: the raw body bytes and the headers Slack would send with them
(``X-Slack-Request-Timestamp``, ``X-Slack-Signature``, ``Content-Type``). :func:`forgeries` is the table of
requests the channel must refuse.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

BOT_DIR = Path(__file__).resolve().parents[3] / "bot"
if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))

from slack_signing import sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0NAVTEST"
BOT_USER = "U0NAVBOT"
FORGED_USER, FORGED_CHANNEL = "U0MALLORY", "D0MALLORY"

Request = tuple[dict[str, str], bytes]


def signed(body: bytes, now: float, *, content_type: str = "application/json", secret: str = SECRET,
           extra: dict[str, str] | None = None) -> Request:
    """``body`` with the headers Slack sends: signed with ``secret`` at ``now``."""
    timestamp = str(int(now))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": sign(secret, timestamp, body), **(extra or {})}
    return headers, body


def event_body(text: str, *, event_id: str, user: str = "U0ALICE", channel: str = "D0ALICE", ts: str = "1.000100",
               kind: str = "message", channel_type: str = "im", thread_ts: str | None = None,
               **event_fields: object) -> bytes:
    """An Events API ``event_callback`` body: a direct message (``kind="message"``) or a mention."""
    event: dict[str, object] = {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel,
                                "event_ts": ts, **event_fields}
    if kind == "message":
        event["channel_type"] = channel_type
    if thread_ts:
        event["thread_ts"] = thread_ts
    payload = {"token": "unused", "team_id": TEAM, "api_app_id": "A0NAV", "type": "event_callback",
               "event_id": event_id, "event_time": 1700000000, "event": event,
               "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
    return json.dumps(payload).encode("utf-8")


def action_body(value: str, *, action_id: str = "navigator-postback-1", user: str = "U0ALICE",
                channel: str = "D0ALICE", message_ts: str = "1.000200", action_ts: str = "1700000001.000001",
                thread_ts: str | None = None) -> bytes:
    """A form-encoded ``block_actions`` body: a click on a postback button."""
    container: dict[str, object] = {"type": "message", "message_ts": message_ts, "channel_id": channel}
    if thread_ts:
        container["thread_ts"] = thread_ts
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "channel": {"id": channel},
               "container": container, "trigger_id": "t-" + action_ts,
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                            "action_ts": action_ts}]}
    return urlencode({"payload": json.dumps(payload)}).encode("utf-8")


def command_body(text: str, response_url: str, *, trigger_id: str = "cmd-1", user: str = "U0ADVISOR",
                 channel: str = "C0ADVISORS") -> bytes:
    """A form-encoded slash command body for ``/navigator``."""
    return urlencode({"token": "unused", "team_id": TEAM, "channel_id": channel, "user_id": user,
                      "command": "/navigator", "text": text, "response_url": response_url,
                      "trigger_id": trigger_id}).encode("utf-8")


@dataclass(frozen=True)
class Forgery:
    """A request the channel must refuse: ``reason`` as :class:`slack_signing.SlackSignatureError` names it."""

    name: str
    headers: dict[str, str]
    body: bytes
    reason: str


def forgeries(now: float, response_url: str = "http://127.0.0.1:9/response/forged", beyond: int = 1) -> list[Forgery]:
    """Forged or broken requests, each carrying a message that would be answered if it were taken.

    ``beyond`` is how many seconds past the 5-minute window the stale and post-dated cases lie: 1 against a
    fake clock; a running server reads the real clock a moment later, so its test passes a wider margin.
    """
    body = event_body("We need GMP manufacturing of a viral vector", event_id="EvFORGED1", user=FORGED_USER,
                      channel=FORGED_CHANNEL)
    good, _ = signed(body, now)
    ts, signature = good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"]
    json_type = {"Content-Type": "application/json"}

    def with_headers(**changes: str | None) -> dict[str, str]:
        headers = dict(good)
        for name, value in changes.items():
            header = {"ts": "X-Slack-Request-Timestamp", "sig": "X-Slack-Signature"}[name]
            if value is None:
                headers.pop(header)
            else:
                headers[header] = value
        return headers

    skew = 300 + beyond
    old, future = str(int(now) - skew), str(int(now) + skew)
    command = command_body("GMP manufacturing", response_url, trigger_id="cmd-forged", user=FORGED_USER)
    action = action_body("/request_support", action_ts="1700000009.000009", user=FORGED_USER, channel=FORGED_CHANNEL)
    challenge = json.dumps({"type": "url_verification", "challenge": "forged-challenge", "token": "x"}).encode()
    tampered = body.replace(b"viral vector", b"viral vectors")
    return [
        Forgery("no signature headers", dict(json_type), body, "missing_timestamp"),
        Forgery("no timestamp", with_headers(ts=None), body, "missing_timestamp"),
        Forgery("no signature", with_headers(sig=None), body, "missing_signature"),
        Forgery("empty signature", with_headers(sig=""), body, "missing_signature"),
        Forgery("empty timestamp", with_headers(ts=""), body, "missing_timestamp"),
        Forgery("random signature", with_headers(sig="v0=" + "ab" * 32), body, "bad_signature"),
        Forgery("wrong secret", signed(body, now, secret="not-the-secret")[0], body, "bad_signature"),
        Forgery("secret with a trailing space", signed(body, now, secret=SECRET + " ")[0], body, "bad_signature"),
        Forgery("tampered body", dict(good), tampered, "bad_signature"),
        Forgery("body with a byte appended", dict(good), body + b" ", "bad_signature"),
        Forgery("empty body", dict(good), b"", "bad_signature"),
        Forgery("stale timestamp (beyond 5 min)", signed(body, now - skew)[0], body, "stale_timestamp"),
        Forgery("timestamp an hour old", signed(body, now - 3600)[0], body, "stale_timestamp"),
        Forgery("future timestamp (beyond 5 min)", signed(body, now + skew)[0], body, "stale_timestamp"),
        Forgery("replayed body, newer timestamp", with_headers(ts=str(int(now) + 60)), body, "bad_signature"),
        Forgery("replayed body, older timestamp", with_headers(ts=str(int(now) - 60)), body, "bad_signature"),
        Forgery("replayed as it was, stale", with_headers(ts=old, sig=signed(body, now - skew)[0]
                                                          ["X-Slack-Signature"]), body, "stale_timestamp"),
        Forgery("post-dated and signed", with_headers(ts=future, sig=signed(body, now + skew)[0]
                                                      ["X-Slack-Signature"]), body, "stale_timestamp"),
        Forgery("timestamp not a number", with_headers(ts="abc"), body, "bad_timestamp"),
        Forgery("negative timestamp", with_headers(ts="-" + ts), body, "bad_timestamp"),
        Forgery("fractional timestamp", with_headers(ts=ts + ".5"), body, "bad_timestamp"),
        Forgery("timestamp with a plus sign", with_headers(ts="+" + ts), body, "bad_timestamp"),
        Forgery("v1 signature", with_headers(sig="v1=" + signature[3:]), body, "bad_signature"),
        Forgery("signature without version", with_headers(sig=signature[3:]), body, "bad_signature"),
        Forgery("upper-case signature", with_headers(sig="v0=" + signature[3:].upper()), body, "bad_signature"),
        Forgery("truncated signature", with_headers(sig=signature[:-2]), body, "bad_signature"),
        Forgery("signature with junk appended", with_headers(sig=signature + "00"), body, "bad_signature"),
        Forgery("non-ASCII signature", with_headers(sig=signature[:-1] + "é"), body, "bad_signature"),
        Forgery("signature of an empty body", with_headers(sig=signed(b"", now)[0]["X-Slack-Signature"]), body,
                "bad_signature"),
        Forgery("forged url_verification", {**signed(challenge, now, secret="guess")[0]}, challenge,
                "bad_signature"),
        Forgery("forged slash command", {**signed(command, now, secret="guess",
                                                  content_type="application/x-www-form-urlencoded")[0]},
                command, "bad_signature"),
        Forgery("forged button click", {**signed(action, now - 400,
                                                 content_type="application/x-www-form-urlencoded")[0]},
                action, "stale_timestamp"),
    ]
