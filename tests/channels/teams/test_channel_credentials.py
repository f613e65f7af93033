"""The launcher's ``teams_channel.TeamsInput`` credentials (navigator/channels.py) build the channel in the Rasa
environment: every key the launcher writes is understood, and an unknown key is refused by name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from navigator.channels import TEAMS_CHANNEL, channel_credentials
from navigator.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

DRIVER = r"""
import asyncio, json, sys
from teams_channel import TeamsInput

credentials = json.loads(sys.stdin.read())
channel = TeamsInput.from_credentials(credentials)
print(json.dumps({
    "name": channel.name(),
    "token_url": channel.connector.token_url,
    "openid_url": channel.authenticator.keys.openid_url,
    "hosts": list(channel.authenticator.policy.hosts),
    "app_id": channel.authenticator.app_id,
    "seen": type(channel.seen).__name__,
    "search": channel.search.navigator_url if channel.search else None,
}))
asyncio.run(channel.close())
try:
    TeamsInput.from_credentials({**credentials, "app_secret": "typo"})
except ValueError as error:
    print(json.dumps(str(error)))
"""


def test_the_launchers_credentials_build_the_channel(tmp_path: Path) -> None:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    settings = Settings.from_env({
        "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "NAVIGATOR_TEAMS_APP_ID": "00000000-1111-2222-3333-444444444444",
        "NAVIGATOR_TEAMS_APP_PASSWORD": "secret", "NAVIGATOR_TEAMS_TENANT_ID": "contoso.onmicrosoft.com",
        "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS": "smba.trafficmanager.net,*.botframework.com,127.0.0.1"})
    credentials = channel_credentials(settings, "http://127.0.0.1:5055/", "reader-token")[TEAMS_CHANNEL]
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER], input=json.dumps(credentials), capture_output=True,
                          text=True, cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    built, refusal = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert built == {
        "name": "botframework",
        "token_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "openid_url": "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "hosts": ["smba.trafficmanager.net", "*.botframework.com", "127.0.0.1"],
        "app_id": "00000000-1111-2222-3333-444444444444",
        "seen": "SqlSeenEvents",
        "search": "http://127.0.0.1:5055",
    }
    assert "app_secret" in refusal
