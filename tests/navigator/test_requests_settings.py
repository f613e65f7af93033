"""Settings of the support-request store, the mailer and the webhook."""

from __future__ import annotations

import pytest

from navigator.settings import PROJECT_ROOT, Settings, SettingsError


def test_request_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'navigator.db'}"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("", 25, False)
    assert settings.mail_from == "navigator@example.org" and settings.advisors_email == "advisors@example.org"
    assert (settings.webhook_url, settings.retention_days, settings.privacy_notice_version) == ("", 365, "2026-11")
    assert settings.tracker_db_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"


def test_request_overrides() -> None:
    settings = Settings.from_env({
        "NAVIGATOR_DATABASE_URL": "postgresql://nav@db:5432/navigator",
        "NAVIGATOR_SMTP_HOST": "smtp.example.org", "NAVIGATOR_SMTP_PORT": "587", "NAVIGATOR_SMTP_STARTTLS": "yes",
        "NAVIGATOR_SMTP_USER": "nav", "NAVIGATOR_SMTP_PASSWORD": "pw",
        "NAVIGATOR_ADVISORS_EMAIL": "team@slt.example.org", "NAVIGATOR_MAIL_FROM": "bot@slt.example.org",
        "NAVIGATOR_WEBHOOK_URL": "https://crm.example.org/hook", "NAVIGATOR_WEBHOOK_SECRET": "s",
        "NAVIGATOR_RETENTION_DAYS": "730", "NAVIGATOR_PRIVACY_NOTICE_VERSION": "2027-01",
    })
    assert settings.database_url == "postgresql+psycopg://nav@db:5432/navigator"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("smtp.example.org", 587, True)
    assert (settings.smtp_user, settings.smtp_password) == ("nav", "pw")
    assert settings.advisors_email == "team@slt.example.org" and settings.mail_from == "bot@slt.example.org"
    assert settings.webhook_secret == "s" and settings.retention_days == 730
    assert settings.privacy_notice_version == "2027-01"


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings.from_env({"NAVIGATOR_SMTP_PASSWORD": "hunter2", "NAVIGATOR_WEBHOOK_URL": "https://c.example",
                                  "NAVIGATOR_WEBHOOK_SECRET": "topsecret",
                                  "NAVIGATOR_DATABASE_URL": "postgresql+psycopg://nav:dbpass@db/navigator"})
    for secret in ("hunter2", "topsecret", "dbpass"):
        assert secret not in repr(settings)


@pytest.mark.parametrize(("env", "name"), [
    ({"NAVIGATOR_DATABASE_URL": "mysql://x/y"}, "NAVIGATOR_DATABASE_URL"),
    ({"NAVIGATOR_DATABASE_URL": "navigator.db"}, "NAVIGATOR_DATABASE_URL"),
    ({"NAVIGATOR_SMTP_PORT": "0"}, "NAVIGATOR_SMTP_PORT"),
    ({"NAVIGATOR_SMTP_PORT": "70000"}, "NAVIGATOR_SMTP_PORT"),
    ({"NAVIGATOR_SMTP_PORT": "smtp"}, "NAVIGATOR_SMTP_PORT"),
    ({"NAVIGATOR_SMTP_STARTTLS": "maybe"}, "NAVIGATOR_SMTP_STARTTLS"),
    ({"NAVIGATOR_ADVISORS_EMAIL": "advisors"}, "NAVIGATOR_ADVISORS_EMAIL"),
    ({"NAVIGATOR_MAIL_FROM": "a@b@c.se"}, "NAVIGATOR_MAIL_FROM"),
    ({"NAVIGATOR_WEBHOOK_URL": "crm.example.org"}, "NAVIGATOR_WEBHOOK_URL"),
    ({"NAVIGATOR_WEBHOOK_URL": "https://crm.example.org/hook"}, "NAVIGATOR_WEBHOOK_SECRET"),
    ({"NAVIGATOR_RETENTION_DAYS": "0"}, "NAVIGATOR_RETENTION_DAYS"),
    ({"NAVIGATOR_TRACKER_DB_URL": "redis://x"}, "NAVIGATOR_TRACKER_DB_URL"),
])
def test_bad_request_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)
