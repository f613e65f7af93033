"""The cluster's configuration (navigator/cluster.py) without starting it: settings it refuses, the generated
haproxy.cfg (checked by HAProxy itself when installed), and each Rasa server's relay pointing at HAProxy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from navigator.cluster import (
    ClusterError,
    ClusterLayout,
    check_cluster_settings,
    find_haproxy,
    haproxy_config,
    with_haproxy_trusted,
)
from navigator.launcher import write_rasa_config
from navigator.settings import Settings

POSTGRES = "postgresql+psycopg://navigator@db.internal/requests"
TRACKER = "postgresql+psycopg://navigator@db.internal/tracker"
REDIS = "redis://cache.internal:6379/0"


def settings(**env: str) -> Settings:
    return Settings.from_env({"NAVIGATOR_DATABASE_URL": POSTGRES, "NAVIGATOR_TRACKER_DB_URL": TRACKER,
                              "NAVIGATOR_REDIS_URL": REDIS, **env})


def test_shared_postgresql_and_redis_are_accepted() -> None:
    check_cluster_settings(settings())


@pytest.mark.parametrize(("variable", "value"), [("NAVIGATOR_DATABASE_URL", "sqlite:///var/navigator.db"),
                                                 ("NAVIGATOR_TRACKER_DB_URL", "sqlite:///var/tracker.db"),
                                                 ("NAVIGATOR_REDIS_URL", "")])
def test_sqlite_or_no_redis_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ClusterError) as refused:
        check_cluster_settings(settings(**{variable: value}))
    assert variable in str(refused.value)
    others = {"NAVIGATOR_DATABASE_URL", "NAVIGATOR_TRACKER_DB_URL", "NAVIGATOR_REDIS_URL"} - {variable}
    assert not any(other in str(refused.value) for other in others)


def test_a_cluster_needs_one_of_each() -> None:
    with pytest.raises(ClusterError, match="at least one"):
        ClusterLayout.numbered(rasa_servers=0)


def test_backends_are_numbered_from_the_first_port() -> None:
    layout = ClusterLayout.numbered(3, 2, first_backend_port=6000)
    assert [(b.name, b.port) for b in layout.rasa_servers + layout.services] == [
        ("rasa1", 6000), ("rasa2", 6001), ("rasa3", 6002), ("service1", 6003), ("service2", 6004)]
    assert layout.actions_url == "http://127.0.0.1:5056"


def sections(config: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = None
    for line in config.splitlines():
        if line and not line.startswith((" ", "#")):
            current = line
            found[current] = []
        elif current and line.strip() and not line.lstrip().startswith("#"):
            found[current].append(line.strip())
    return found


def test_haproxy_checks_every_backend_and_retries_only_failed_connections() -> None:
    layout = ClusterLayout.numbered(2, 3, host="0.0.0.0")
    config = sections(haproxy_config(layout))
    assert config["backend rasa"][:3] == ["balance roundrobin", "option httpchk GET /webhooks/rest/",
                                          "http-check expect status 200"]
    assert [s for s in config["backend rasa"] if s.startswith("server")] == [
        "server rasa1 127.0.0.1:5100 check", "server rasa2 127.0.0.1:5101 check"]
    assert "balance source" in config["backend rasa_socketio"]
    assert "option httpchk GET /health" in config["backend navigator"]
    assert len([s for s in config["backend navigator"] if s.startswith("server")]) == 3
    # Nothing that was sent is sent again: only a failed connection is retried, on another server.
    assert "retry-on conn-failure" in config["defaults"]
    assert "option redispatch 1" in config["defaults"]
    assert config["frontend actions"][0] == "bind 127.0.0.1:5056"
    assert config["frontend rasa"][0] == "bind 0.0.0.0:5005"
    # The action protocol and the relay are not public.
    assert "http-request deny deny_status 403 if { path /webhook /actions }" in config["frontend navigator"]
    assert "http-request deny deny_status 403 if { path_beg /webhooks/navigator_actions/ }" in config["frontend rasa"]
    # The Rasa servers learn the client's address from HAProxy (their per-address rate limit).
    assert "option forwardfor" in config["frontend rasa"]
    assert not [line for line in config["frontend actions"] if "deny" in line]


@pytest.mark.integration
def test_haproxy_accepts_the_generated_configuration(tmp_path: Path) -> None:
    try:
        haproxy = find_haproxy()
    except ClusterError as missing:
        pytest.fail(str(missing), pytrace=False)
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_config(ClusterLayout.numbered(), admin_socket=tmp_path / "haproxy.sock"))
    checked = subprocess.run([str(haproxy), "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_rasa_servers_relay_calls_the_services_through_haproxy(tmp_path: Path) -> None:
    layout = ClusterLayout.numbered()
    endpoints, credentials = write_rasa_config(settings(), tmp_path / "rasa1", rasa_port=5100,
                                               service_url=layout.actions_url)
    relay = yaml.safe_load(credentials.read_text())["action_relay.ActionRelayInput"]
    assert relay["service_url"] == "http://127.0.0.1:5056/webhook"
    stores = yaml.safe_load(endpoints.read_text())
    assert stores["action_endpoint"]["url"] == "http://127.0.0.1:5100/webhooks/navigator_actions/webhook"
    assert stores["lock_store"]["type"] == "lock_store.AtomicRedisLockStore"
    assert stores["tracker_store"]["url"] == "db.internal"
    with pytest.raises(ValueError, match="either service_port or service_url"):
        write_rasa_config(settings(), tmp_path / "rasa2", 5055, 5100, service_url=layout.actions_url)


def test_the_rasa_servers_believe_haproxys_forwarded_address_and_count_in_redis(tmp_path: Path) -> None:
    behind = with_haproxy_trusted(settings())
    assert behind.trusted_proxies == ("127.0.0.1/32",)
    assert with_haproxy_trusted(behind) == behind
    _, credentials = write_rasa_config(behind, tmp_path / "rasa1", rasa_port=5100, service_url="http://127.0.0.1:5056")
    guard = yaml.safe_load(credentials.read_text())["action_relay.ActionRelayInput"]["input_guard"]
    assert guard["trusted_proxies"] == ["127.0.0.1/32"] and guard["redis_url"] == REDIS


def test_navigator_cluster_refuses_sqlite_naming_the_variables(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from navigator.cli import main

    for variable in ("NAVIGATOR_DATABASE_URL", "NAVIGATOR_TRACKER_DB_URL", "NAVIGATOR_REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["cluster"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("navigator: a cluster needs shared databases")
    for variable in ("NAVIGATOR_DATABASE_URL", "NAVIGATOR_TRACKER_DB_URL", "NAVIGATOR_REDIS_URL"):
        assert variable in error
