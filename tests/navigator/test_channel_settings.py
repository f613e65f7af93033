"""The Slack and Teams settings and the credentials.yml entries the launcher writes from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from navigator.channels import (
    SLACK_CHANNEL,
    TEAMS_CHANNEL,
    channels_api_token,
    rasa_sql_url,
)
from navigator.launcher import write_rasa_config
from navigator.settings import Settings, SettingsError
from support_requests.store import RequestStore
from support_requests.tokens import TokenRole, TokenStore

SLACK = {"NAVIGATOR_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
         "NAVIGATOR_SLACK_BOT_TOKEN": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"}
TEAMS = {"NAVIGATOR_TEAMS_APP_ID": "2a3c9f2e-3b5a-4c5e-9b8f-1e2d3c4b5a69", "NAVIGATOR_TEAMS_APP_PASSWORD": "s3cret",
         "NAVIGATOR_TEAMS_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}


def base_env(tmp_path: Path) -> dict[str, str]:
    return {"NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "NAVIGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'navigator.db'}",
            "NAVIGATOR_SESSION_KEY_FILE": str(tmp_path / "var" / "session.key")}


def credentials_of(settings: Settings, tmp_path: Path) -> dict[str, object]:
    _, credentials = write_rasa_config(settings, tmp_path / "run", service_port=5123, rasa_port=5105)
    return yaml.safe_load(credentials.read_text())


def test_without_their_settings_neither_channel_is_served(tmp_path: Path) -> None:
    settings = Settings.from_env(base_env(tmp_path))
    assert not settings.slack_enabled and not settings.teams_enabled
    channels = credentials_of(settings, tmp_path)
    assert SLACK_CHANNEL not in channels and TEAMS_CHANNEL not in channels
    assert not (tmp_path / "var" / "channels.token").exists()


def test_slack_settings_become_the_slack_channels_credentials(tmp_path: Path) -> None:
    env = {**base_env(tmp_path), **SLACK, "NAVIGATOR_SLACK_API_URL": "http://127.0.0.1:9999/api/",
           "NAVIGATOR_SLACK_ADVISORS_CHANNEL": "C0123456789", "NAVIGATOR_REDIS_URL": "redis://127.0.0.1:6390/2"}
    slack = credentials_of(Settings.from_env(env), tmp_path)[SLACK_CHANNEL]
    token = (tmp_path / "var" / "channels.token").read_text().strip()
    assert slack == {
        "signing_secret": SLACK["NAVIGATOR_SLACK_SIGNING_SECRET"], "bot_token": SLACK["NAVIGATOR_SLACK_BOT_TOKEN"],
        "api_url": "http://127.0.0.1:9999/api", "advisors_channel": "C0123456789",
        "dedup_url": f"sqlite:///{tmp_path / 'tracker.db'}", "redis_url": "redis://127.0.0.1:6390/2",
        "navigator_url": "http://127.0.0.1:5123", "navigator_token": token}


def test_teams_settings_become_the_teams_channels_credentials(tmp_path: Path) -> None:
    env = {**base_env(tmp_path), **TEAMS, "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS": "127.0.0.1, *.Example.org"}
    teams = credentials_of(Settings.from_env(env), tmp_path)[TEAMS_CHANNEL]
    assert teams["app_id"] == TEAMS["NAVIGATOR_TEAMS_APP_ID"] and teams["app_password"] == "s3cret"
    assert teams["tenant_id"] == TEAMS["NAVIGATOR_TEAMS_TENANT_ID"]
    assert teams["openid_url"] == "https://login.botframework.com/v1/.well-known/openidconfiguration"
    assert teams["token_url"] == "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    assert teams["service_url_hosts"] == ["127.0.0.1", "*.example.org"]
    assert teams["redis_url"] == "" and teams["dedup_url"] == f"sqlite:///{tmp_path / 'tracker.db'}"


def test_the_channels_search_with_one_kept_reader_token(tmp_path: Path) -> None:
    settings = Settings.from_env(base_env(tmp_path))
    token_file = tmp_path / "var" / "channels.token"
    first = channels_api_token(settings, token_file)
    assert channels_api_token(settings, token_file) == first
    assert token_file.stat().st_mode & 0o777 == 0o600
    store = RequestStore.from_url(settings.database_url)
    tokens = TokenStore(store.engine)
    info = tokens.verify(first)
    assert info is not None and info.role is TokenRole.READER
    # A revoked token is replaced by a new one.
    tokens.revoke(info.name)
    store.close()
    second = channels_api_token(settings, token_file)
    assert second != first and token_file.read_text().strip() == second
    # A configured token is used as it is, and nothing is created.
    configured = Settings.from_env({**base_env(tmp_path), "NAVIGATOR_CHANNELS_API_TOKEN": "nav_configured"})
    assert channels_api_token(configured, tmp_path / "other.token") == "nav_configured"
    assert not (tmp_path / "other.token").exists()


def test_postgresql_urls_get_the_rasa_environments_driver() -> None:
    assert rasa_sql_url("postgresql+psycopg://navigator:pw@db.internal:5433/rasa") == \
        "postgresql+psycopg2://navigator:pw@db.internal:5433/rasa"
    assert rasa_sql_url("sqlite:////srv/navigator/tracker.db") == "sqlite:////srv/navigator/tracker.db"


@pytest.mark.parametrize(("env", "variable"), [
    ({"NAVIGATOR_SLACK_SIGNING_SECRET": "x"}, "NAVIGATOR_SLACK_BOT_TOKEN"),
    ({"NAVIGATOR_SLACK_BOT_TOKEN": "xoxb-1"}, "NAVIGATOR_SLACK_SIGNING_SECRET"),
    ({**SLACK, "NAVIGATOR_SLACK_API_URL": "slack.com/api"}, "NAVIGATOR_SLACK_API_URL"),
    ({**SLACK, "NAVIGATOR_SLACK_ADVISORS_CHANNEL": "#advisors"}, "NAVIGATOR_SLACK_ADVISORS_CHANNEL"),
    ({"NAVIGATOR_TEAMS_APP_ID": "a"}, "NAVIGATOR_TEAMS_APP_PASSWORD"),
    ({"NAVIGATOR_TEAMS_APP_ID": "a", "NAVIGATOR_TEAMS_APP_PASSWORD": "b"}, "NAVIGATOR_TEAMS_TENANT_ID"),
    ({**TEAMS, "NAVIGATOR_TEAMS_TENANT_ID": "bad tenant/"}, "NAVIGATOR_TEAMS_TENANT_ID"),
    ({**TEAMS, "NAVIGATOR_TEAMS_TOKEN_URL": "ftp://login"}, "NAVIGATOR_TEAMS_TOKEN_URL"),
    ({**TEAMS, "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS": "https://smba.trafficmanager.net/emea/"},
     "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS"),
    ({"NAVIGATOR_REDIS_URL": "127.0.0.1:6379"}, "NAVIGATOR_REDIS_URL"),
])
def test_unusable_channel_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)
