from __future__ import annotations

from pathlib import Path

import pytest

from navigator.settings import PROJECT_ROOT, RateLimit, Settings, SettingsError


def test_defaults_point_into_the_project() -> None:
    settings = Settings.from_env({})
    assert settings.knowledge_dir == PROJECT_ROOT / "knowledge"
    assert settings.embedding_model == "all-MiniLM-L6-v2"
    assert settings.build_options.ann_threshold == 20_000


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "NAVIGATOR_INDEX_DIR": "/tmp/x", "NAVIGATOR_ANN_THRESHOLD": "500", "NAVIGATOR_EMBEDDING_MODEL": "/m",
        "NAVIGATOR_MAX_QUERY_CHARS": "300",
    })
    assert settings.index_dir == Path("/tmp/x") and settings.ann_threshold == 500
    assert settings.embedding_model == "/m" and settings.engine_settings.max_query_chars == 300


@pytest.mark.parametrize(("name", "value"), [("NAVIGATOR_ANN_THRESHOLD", "many"), ("NAVIGATOR_NPROBE", "0"),
                                             ("NAVIGATOR_MAX_QUERY_CHARS", "5")])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_smtp_authority_file_must_be_readable(tmp_path: Path) -> None:
    assert Settings.from_env({}).smtp_cafile is None
    pem = tmp_path / "relay-ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings.from_env({"NAVIGATOR_SMTP_CAFILE": str(pem)}).smtp_cafile == pem
    with pytest.raises(SettingsError, match="NAVIGATOR_SMTP_CAFILE"):
        Settings.from_env({"NAVIGATOR_SMTP_CAFILE": str(tmp_path / "missing.pem")})


def test_status_check_limits_default_to_five_an_hour_and_reach_the_guard(tmp_path: Path) -> None:
    import datetime as dt

    from navigator.stores import open_status_guard
    from support_requests.store import RequestStore

    defaults = Settings.from_env({})
    assert (defaults.status_check_max_failures, defaults.status_check_window_minutes) == (5, 60)
    settings = Settings.from_env({"NAVIGATOR_STATUS_CHECK_MAX_FAILURES": "3",
                                  "NAVIGATOR_STATUS_CHECK_WINDOW_MINUTES": "90"})
    with RequestStore.from_url(f"sqlite:///{tmp_path / 'r.db'}") as store:
        guard = open_status_guard(settings, store)
        assert guard.engine is store.engine and guard.clock is store.clock
        assert (guard.max_failures, guard.window) == (3, dt.timedelta(minutes=90))


@pytest.mark.parametrize(("name", "value"), [("NAVIGATOR_STATUS_CHECK_MAX_FAILURES", "0"),
                                             ("NAVIGATOR_STATUS_CHECK_MAX_FAILURES", "five"),
                                             ("NAVIGATOR_STATUS_CHECK_WINDOW_MINUTES", "0"),
                                             ("NAVIGATOR_STATUS_CHECK_WINDOW_MINUTES", "100000")])
def test_bad_status_check_limits_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_input_guards_limits_have_defaults_and_can_be_changed_or_turned_off() -> None:
    defaults = Settings.from_env({})
    assert defaults.max_message_chars == 2000
    assert defaults.sender_rate == RateLimit(20, 60, 10) and defaults.address_rate == RateLimit(120, 60, 60)
    assert defaults.trusted_proxies == () and defaults.drop_hold_seconds == 2.0
    changed = Settings.from_env({"NAVIGATOR_MAX_MESSAGE_CHARS": "4000", "NAVIGATOR_SENDER_RATE": " 30 / 120s ",
                                 "NAVIGATOR_SENDER_BURST": "5", "NAVIGATOR_ADDRESS_RATE": "OFF",
                                 "NAVIGATOR_TRUSTED_PROXIES": "127.0.0.1, 10.1.2.0/24,fd00::/8",
                                 "NAVIGATOR_DROP_HOLD_SECONDS": "0"})
    assert changed.max_message_chars == 4000 and changed.drop_hold_seconds == 0
    assert changed.sender_rate == RateLimit(30, 120, 5) and changed.address_rate is None
    assert changed.trusted_proxies == ("127.0.0.1/32", "10.1.2.0/24", "fd00::/8")
    # A burst alone keeps the default rate.
    assert Settings.from_env({"NAVIGATOR_ADDRESS_BURST": "7"}).address_rate == RateLimit(120, 60, 7)


@pytest.mark.parametrize(("name", "value"), [
    ("NAVIGATOR_MAX_MESSAGE_CHARS", "9"), ("NAVIGATOR_MAX_MESSAGE_CHARS", "200000"),
    ("NAVIGATOR_SENDER_RATE", "20 per minute"), ("NAVIGATOR_SENDER_RATE", "0/60"), ("NAVIGATOR_ADDRESS_RATE", "5/0"),
    ("NAVIGATOR_SENDER_BURST", "0"), ("NAVIGATOR_TRUSTED_PROXIES", "127.0.0.1,haproxy"),
    ("NAVIGATOR_DROP_HOLD_SECONDS", "-1"), ("NAVIGATOR_DROP_HOLD_SECONDS", "61"), ("NAVIGATOR_DROP_HOLD_SECONDS", "nan"),
    ("NAVIGATOR_DROP_HOLD_SECONDS", "two"),
])
def test_unusable_limits_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_reached_has_a_default_definition_and_can_be_changed() -> None:
    import datetime as dt

    from support_requests.model import RequestStatus
    from support_requests.outcomes import DEFAULT_LAB_SPACE_ENTRIES

    default = Settings.from_env({}).reached_definition
    assert (default.status, default.count_intakes, default.target, default.programme_start) == (
        RequestStatus.IN_PROGRESS, True, 200, None)
    assert default.lab_space_entries == DEFAULT_LAB_SPACE_ENTRIES
    changed = Settings.from_env({"NAVIGATOR_REACHED_STATUS": "Connected", "NAVIGATOR_REACHED_INTAKES": "false",
                                 "NAVIGATOR_REACHED_TARGET": "250", "NAVIGATOR_PROGRAMME_START": "2026-01-01",
                                 "NAVIGATOR_LAB_SPACE_ENTRIES": "novum-labs-flemingsberg, awl-innomedicum"})
    definition = changed.reached_definition
    assert (definition.status, definition.count_intakes, definition.target, definition.programme_start) == (
        RequestStatus.CONNECTED, False, 250, dt.date(2026, 1, 1))
    assert definition.lab_space_entries == {"novum-labs-flemingsberg", "awl-innomedicum"}


def test_the_waiting_threshold_is_five_working_days_unless_set() -> None:
    assert Settings.from_env({}).waiting_working_days == 5
    assert Settings.from_env({"NAVIGATOR_WAITING_WORKING_DAYS": "10"}).waiting_working_days == 10
    assert Settings.from_env({"NAVIGATOR_WAITING_WORKING_DAYS": "0"}).waiting_working_days == 0


@pytest.mark.parametrize(("name", "value"), [
    ("NAVIGATOR_REACHED_STATUS", "closed"), ("NAVIGATOR_REACHED_TARGET", "0"),
    ("NAVIGATOR_REACHED_INTAKES", "sometimes"), ("NAVIGATOR_PROGRAMME_START", "01/01/2026"),
    ("NAVIGATOR_LAB_SPACE_ENTRIES", "Novum Labs"), ("NAVIGATOR_WAITING_WORKING_DAYS", "-1"),
    ("NAVIGATOR_WAITING_WORKING_DAYS", "five"), ("NAVIGATOR_WAITING_WORKING_DAYS", "61")])
def test_unusable_reached_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_fusion_follows_the_embedding_model() -> None:
    assert Settings.from_env({}).engine_settings.dense_share == 0.8
    e5 = Settings.from_env({"NAVIGATOR_EMBEDDING_MODEL": "multilingual-e5-small-q4"})
    assert e5.engine_settings.dense_share == 0.95
    assert Settings.from_env({"NAVIGATOR_MAX_QUERY_CHARS": "100"}).engine_settings.max_query_chars == 100


def test_follow_ups_need_a_public_url_and_go_out_after_the_delay(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography.fernet import Fernet

    from navigator.stores import follow_up_links, follow_up_policy, open_request_store

    secret = Fernet.generate_key().decode()
    assert Settings.from_env({}).follow_up_delay_days == 0
    assert follow_up_policy(Settings.from_env({})) is None  # no public URL to link to: off
    assert follow_up_policy(Settings.from_env({"NAVIGATOR_PUBLIC_URL": "https://n.example.org",
                                               "NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "off"})) is None
    settings = Settings.from_env({"NAVIGATOR_PUBLIC_URL": "https://n.example.org/", "NAVIGATOR_SESSION_SECRET": secret,
                                  "NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "3",
                                  "NAVIGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})
    policy = follow_up_policy(settings)
    assert policy is not None and policy.delay == dt.timedelta(days=3)
    assert policy.link("t") == "https://n.example.org/follow-up/t"
    assert policy.links == follow_up_links(settings)  # the web checks links with the key that signed them
    assert policy.links.key not in (secret.encode(), b"")  # derived, never the session key itself
    with open_request_store(settings) as store:
        assert store.follow_up == policy


@pytest.mark.parametrize(("environment", "message"), [
    ({"NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "31", "NAVIGATOR_PUBLIC_URL": "https://n.example.org"}, "at most 30"),
    ({"NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "-1", "NAVIGATOR_PUBLIC_URL": "https://n.example.org"}, "at least 0"),
    ({"NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "soon", "NAVIGATOR_PUBLIC_URL": "https://n.example.org"}, "whole number"),
    ({"NAVIGATOR_FOLLOW_UP_DELAY_DAYS": "2"}, "NAVIGATOR_PUBLIC_URL is empty"),
])
def test_a_follow_up_delay_that_cannot_be_used_names_the_variable(environment: dict, message: str) -> None:
    with pytest.raises(SettingsError, match="NAVIGATOR_FOLLOW_UP_DELAY_DAYS") as refused:
        Settings.from_env(environment)
    assert message in str(refused.value)


def test_swedish_passages_follow_the_embedding_model() -> None:
    # MiniLM reads English only: the Swedish summaries stay keyword words (docs/benchmarks.md, "Swedish passages").
    assert Settings.from_env({}).build_options.swedish_passages is False
    e5 = Settings.from_env({"NAVIGATOR_EMBEDDING_MODEL": "multilingual-e5-small-q4"})
    assert e5.build_options.swedish_passages is True
