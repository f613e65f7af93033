"""The Slack and Teams channels' part of Rasa's credentials.yml, from the settings.

Each channel is on when its settings are present and absent from credentials.yml otherwise. The channels run
inside the Rasa server (bot/slack_channel.py, bot/teams_channel.py) and get everything there: the platform's
secrets and addresses, where to record the events they have taken (Redis when configured, else Rasa's tracker
database), and the Navigator service's address and an API token for the advisors' catalogue searches.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from navigator.settings import Settings
from navigator.stores import open_request_store
from support_requests.tokens import TokenRole, TokenStore

SLACK_CHANNEL = "slack_channel.SlackInput"
TEAMS_CHANNEL = "teams_channel.TeamsInput"
TOKEN_NAME_PREFIX = "rasa-channels-"


def channel_credentials(settings: Settings, service_url: str, api_token: str) -> dict[str, dict[str, Any]]:
    """The credentials.yml entries of the enabled channels (an empty dict when none is).

    Args:
        settings: the run's settings.
        service_url: the Navigator service as the Rasa server reaches it.
        api_token: a ``reader`` token of the Navigator API (see :func:`channels_api_token`).
    """
    shared = {"dedup_url": rasa_sql_url(settings.tracker_db_url), "redis_url": settings.redis_url,
              "navigator_url": service_url.rstrip("/"), "navigator_token": api_token}
    credentials: dict[str, dict[str, Any]] = {}
    if settings.slack_enabled:
        credentials[SLACK_CHANNEL] = {
            "signing_secret": settings.slack_signing_secret, "bot_token": settings.slack_bot_token,
            "api_url": settings.slack_api_url, "advisors_channel": settings.slack_advisors_channel, **shared}
    if settings.teams_enabled:
        credentials[TEAMS_CHANNEL] = {
            "app_id": settings.teams_app_id, "app_password": settings.teams_app_password,
            "tenant_id": settings.teams_tenant_id, "openid_url": settings.teams_openid_url,
            "token_url": settings.teams_token_url, "service_url_hosts": list(settings.teams_service_url_hosts),
            **shared}
    return credentials


def channels_api_token(settings: Settings, token_file: Path) -> str:
    """The API token the channels search with: ``NAVIGATOR_CHANNELS_API_TOKEN`` when set; else the one kept in
    ``token_file`` while the request database still accepts it; else a new ``reader`` token, kept there.

    Returns:
        A token in plain text.
    """
    if settings.channels_api_token:
        return settings.channels_api_token
    store = open_request_store(settings)
    try:
        tokens = TokenStore(store.engine)
        kept = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else ""
        if kept and tokens.verify(kept) is not None:
            return kept
        token = tokens.create(TOKEN_NAME_PREFIX + secrets.token_hex(4), TokenRole.READER)
    finally:
        store.close()
    token_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return token


def rasa_sql_url(url: str) -> str:
    """A database URL of the settings in the form the Rasa environment's SQLAlchemy 1.4 opens: PostgreSQL through
    psycopg2 (the settings name psycopg 3, which only the Navigator environment has)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)
