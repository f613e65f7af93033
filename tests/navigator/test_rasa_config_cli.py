"""``navigator rasa-config``: a Rasa server's configuration written from the settings, for a server started
elsewhere (the init container of deploy/kubernetes/rasa.yaml)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from navigator import cli

SHARED = {"NAVIGATOR_DATABASE_URL": "postgresql://navigator:dbpass@postgres:5432/navigator",
          "NAVIGATOR_TRACKER_DB_URL": "postgresql://navigator:dbpass@postgres:5432/navigator_tracker",
          "NAVIGATOR_REDIS_URL": "redis://:redispass@redis:6379/0",
          "NAVIGATOR_ADVISORS_EMAIL": "team@example.org"}
SLACK = {"NAVIGATOR_SLACK_SIGNING_SECRET": "signing-secret", "NAVIGATOR_SLACK_BOT_TOKEN": "xoxb-token"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Sets the given settings, and only those: settings of this process's own (such as the running test stack's,
    which has Slack and Teams on) are removed first."""
    for name in [name for name in os.environ if name.startswith("NAVIGATOR_")]:
        monkeypatch.delenv(name)

    def set_environment(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_environment


def test_it_writes_rasas_files_with_the_relay_the_shared_stores_and_no_channel_unasked(
        tmp_path: Path, environment, capsys) -> None:
    environment(SHARED)
    code = cli.main(["rasa-config", "--out", str(tmp_path / "rasa"), "--rasa-port", "5007",
                     "--service-url", "http://navigator:5055/"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    endpoints = yaml.safe_load((tmp_path / "rasa" / "endpoints.yml").read_text())
    credentials = yaml.safe_load((tmp_path / "rasa" / "credentials.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5007/webhooks/navigator_actions/webhook"
    relay = credentials["action_relay.ActionRelayInput"]
    assert relay["secret"] == endpoints["action_endpoint"]["headers"]["X-Navigator-Relay"]
    assert (relay["service_url"], relay["advisors_email"]) == ("http://navigator:5055/webhook", "team@example.org")
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "postgres", "port": 5432,
                                         "db": "navigator_tracker", "username": "navigator", "password": "dbpass"}
    assert endpoints["lock_store"]["type"] == "lock_store.AtomicRedisLockStore"
    assert set(credentials) == {"rest_channel.RestInput", "webchat_channel.WebchatInput",
                                "action_relay.ActionRelayInput"}
    for name in ("endpoints.yml", "credentials.yml"):
        assert stat.S_IMODE((tmp_path / "rasa" / name).stat().st_mode) == 0o600
    # What it printed names the files and the stores, never a password or the relay's secret.
    assert "endpoints.yml" in out and "Redis" in out
    assert "dbpass" not in out and "redispass" not in out and relay["secret"] not in out


def test_each_run_gives_the_relay_a_new_secret(tmp_path: Path, environment, capsys) -> None:
    environment(SHARED)
    secrets = []
    for folder in ("one", "two"):
        assert cli.main(["rasa-config", "--out", str(tmp_path / folder), "--service-url", "http://navigator:5055"]) == 0
        secrets.append(yaml.safe_load((tmp_path / folder / "credentials.yml").read_text())
                       ["action_relay.ActionRelayInput"]["secret"])
    assert secrets[0] != secrets[1]


def test_with_slack_on_it_needs_the_shared_channels_token(tmp_path: Path, environment, capsys) -> None:
    environment({**SHARED, **SLACK})
    code = cli.main(["rasa-config", "--out", str(tmp_path / "rasa"), "--service-url", "http://navigator:5055"])
    assert code == 1
    assert "NAVIGATOR_CHANNELS_API_TOKEN" in capsys.readouterr().err
    assert not (tmp_path / "rasa").exists()

    environment({"NAVIGATOR_CHANNELS_API_TOKEN": "reader-token"})
    assert cli.main(["rasa-config", "--out", str(tmp_path / "rasa"), "--service-url", "http://navigator:5055"]) == 0
    slack = yaml.safe_load((tmp_path / "rasa" / "credentials.yml").read_text())["slack_channel.SlackInput"]
    assert (slack["navigator_token"], slack["navigator_url"]) == ("reader-token", "http://navigator:5055")


@pytest.mark.parametrize(("arguments", "complaint"), [
    (["--service-url", "navigator:5055"], "--service-url must be an http:// or https:// address"),
    (["--service-url", "http://navigator:5055", "--rasa-port", "70000"], "--rasa-port must be a port number"),
])
def test_it_refuses_a_wrong_address_or_port(tmp_path: Path, environment, capsys, arguments: list[str],
                                            complaint: str) -> None:
    environment(SHARED)
    assert cli.main(["rasa-config", "--out", str(tmp_path / "rasa"), *arguments]) == 1
    assert complaint in capsys.readouterr().err
    assert not (tmp_path / "rasa").exists()
