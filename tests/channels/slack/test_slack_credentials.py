"""The launcher's Slack credentials (navigator/channels.py) are what the channel (bot/slack_channel.py) takes,
checked in the Rasa environment, where the channel runs."""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.channels import SLACK_CHANNEL, channel_credentials
from navigator.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DRIVER = r"""
import json, sys
from slack_channel import SlackInput

credentials = json.loads(sys.stdin.read())
channel = SlackInput.from_credentials(credentials)
refusals = []
for broken in ({**credentials, "verify_token": "x"}, {**credentials, "signing_secret": ""},
               {k: v for k, v in credentials.items() if k != "bot_token"}):
    try:
        SlackInput.from_credentials(broken)
        refusals.append(None)
    except ValueError as error:
        refusals.append(str(error))
print(json.dumps({"name": channel.name(), "prefix": channel.url_prefix(), "api_url": channel.client.api_url,
                  "navigator_url": channel.catalogue.navigator_url, "advisors": channel.advisors_channel,
                  "refusals": refusals}))
"""


def test_the_launchers_credentials_start_the_channel_and_broken_ones_are_refused(tmp_path) -> None:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    settings = Settings.from_env({"NAVIGATOR_SLACK_SIGNING_SECRET": "s3cret", "NAVIGATOR_SLACK_BOT_TOKEN": "xoxb-1",
                                  "NAVIGATOR_SLACK_API_URL": "http://127.0.0.1:9/api/",
                                  "NAVIGATOR_SLACK_ADVISORS_CHANNEL": "C0ADVISORS",
                                  "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}"})
    credentials = channel_credentials(settings, "http://127.0.0.1:5055/", "reader-token")[SLACK_CHANNEL]
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], input=json.dumps(credentials), capture_output=True,
                          text=True, cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["name"] == result["prefix"] == "slack"  # the webhook is /webhooks/slack/webhook
    assert result["api_url"] == "http://127.0.0.1:9/api"
    assert result["navigator_url"] == "http://127.0.0.1:5055" and result["advisors"] == "C0ADVISORS"
    unknown, no_secret, no_token = result["refusals"]
    assert unknown and "verify_token" in unknown
    assert no_secret and "NAVIGATOR_SLACK_SIGNING_SECRET" in no_secret
    assert no_token and "NAVIGATOR_SLACK_BOT_TOKEN" in no_token
