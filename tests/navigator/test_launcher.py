"""The launcher's Rasa configuration and the addresses it prints (starting the processes is tested in tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from navigator.launcher import browser_url, write_rasa_config
from navigator.settings import Settings


def test_rasa_gets_the_rest_and_the_website_widgets_channel_and_calls_actions_through_its_relay(
        tmp_path: Path) -> None:
    settings = Settings.from_env({"NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
                                  "NAVIGATOR_ADVISORS_EMAIL": "advisors@slt.example.org"})
    endpoints, credentials = write_rasa_config(settings, tmp_path / "run", service_port=5123, rasa_port=5105)
    channels = yaml.safe_load(credentials.read_text())
    relay = channels.pop("action_relay.ActionRelayInput")
    assert channels == {
        "rest_channel.RestInput": None,
        "webchat_channel.WebchatInput": {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                                         "session_persistence": True},
    }
    bot = Path(__file__).resolve().parents[2] / "bot"
    assert all((bot / name).is_file() for name in ("rest_channel.py", "webchat_channel.py", "action_relay.py"))
    action_endpoint = yaml.safe_load(endpoints.read_text())["action_endpoint"]
    # Rasa calls its own relay with the run's secret; the relay calls the service.
    assert action_endpoint["url"] == "http://127.0.0.1:5105/webhooks/navigator_actions/webhook"
    guard = relay.pop("input_guard")
    assert relay == {"service_url": "http://127.0.0.1:5123/webhook", "advisors_email": "advisors@slt.example.org",
                     "secret": action_endpoint["headers"]["X-Navigator-Relay"]}
    # The input guard's default limits (bot/input_guard.py), in this process's memory.
    assert guard == {"max_message_chars": 2000, "sender_rate": {"messages": 20, "seconds": 60, "burst": 10},
                     "address_rate": {"messages": 120, "seconds": 60, "burst": 60}, "trusted_proxies": [],
                     "redis_url": "", "drop_hold_seconds": 2.0}
    assert len(relay["secret"]) >= 40
    # A new secret for every run, and files only their owner reads.
    _, again = write_rasa_config(settings, tmp_path / "run", service_port=5123, rasa_port=5105)
    assert yaml.safe_load(again.read_text())["action_relay.ActionRelayInput"]["secret"] != relay["secret"]
    assert endpoints.stat().st_mode & 0o777 == 0o600 and again.stat().st_mode & 0o777 == 0o600


def test_with_redis_rasa_keeps_its_conversation_locks_there_in_the_atomic_store(tmp_path: Path) -> None:
    plain = Settings.from_env({"NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}"})
    endpoints, _ = write_rasa_config(plain, tmp_path / "run", service_port=5123, rasa_port=5105)
    assert "lock_store" not in yaml.safe_load(endpoints.read_text())  # one server: Rasa's in-memory locks
    shared = Settings.from_env({"NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
                                "NAVIGATOR_REDIS_URL": "redis://:pw@redis.internal:6380/2"})
    endpoints, _ = write_rasa_config(shared, tmp_path / "run", service_port=5123, rasa_port=5105)
    assert yaml.safe_load(endpoints.read_text())["lock_store"] == {
        "type": "lock_store.AtomicRedisLockStore", "url": "redis.internal", "port": 6380, "db": 2,
        "use_ssl": False, "password": "pw"}
    assert (Path(__file__).resolve().parents[2] / "bot" / "lock_store.py").is_file()


def test_the_input_guards_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env({"NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
                                  "NAVIGATOR_MAX_MESSAGE_CHARS": "1500", "NAVIGATOR_SENDER_RATE": "off",
                                  "NAVIGATOR_ADDRESS_RATE": "300/60s", "NAVIGATOR_ADDRESS_BURST": "100",
                                  "NAVIGATOR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
                                  "NAVIGATOR_REDIS_URL": "redis://redis.internal:6379/0",
                                  "NAVIGATOR_DROP_HOLD_SECONDS": "0.5"})
    _, credentials = write_rasa_config(settings, tmp_path / "run", service_port=5123, rasa_port=5105)
    guard = yaml.safe_load(credentials.read_text())["action_relay.ActionRelayInput"]["input_guard"]
    assert guard == {"max_message_chars": 1500, "sender_rate": None,
                     "address_rate": {"messages": 300, "seconds": 60, "burst": 100},
                     "trusted_proxies": ["10.0.0.0/8", "127.0.0.1/32"], "redis_url": "redis://redis.internal:6379/0",
                     "drop_hold_seconds": 0.5}


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", "http://localhost:5055"),
    ("0.0.0.0", "http://localhost:5055"),
    ("::", "http://localhost:5055"),
    ("navigator.internal", "http://navigator.internal:5055"),
    ("10.1.2.3", "http://10.1.2.3:5055"),
    ("fd00::1", "http://[fd00::1]:5055"),
])
def test_the_printed_website_address_is_one_a_browser_opens(host: str, expected: str) -> None:
    assert browser_url(host, 5055) == expected
