"""deploy/kubernetes: every manifest is valid for Kubernetes 1.33 (the schemas kubernetes-validate bundles, used
offline and strictly: an unknown field fails), and what the manifests say fits what the processes really do."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from navigator.cluster import RASA_HEALTH_PATH, SERVICE_HEALTH_PATH, check_cluster_settings
from navigator.launcher import RELAY_NAME
from navigator.rasa_config_cli import write_config
from navigator.service import create_app
from navigator.settings import Settings
from tests.deploy.manifests import (KUBERNETES_VERSION, KUSTOMIZATION, ROOT, SECRET_EXAMPLE, container,
                                    container_environment, deployed_objects, find, manifest_files, named_port,
                                    objects, option, pod_spec)

WORKLOADS = ("Deployment", "StatefulSet")
MEASURED_RSS_MIB = {"rasa": 1890, "navigator": 643}
"""Resident memory after start-up and 61 turns, from deploy/measure_resources.py (docs/deploy.md, "Sizing")."""

SECRET_VALUES = {"POSTGRES_PASSWORD": "pgpassword0123", "REDIS_PASSWORD": "redispassword0123",
                 "NAVIGATOR_SESSION_SECRET": Fernet.generate_key().decode()}
"""What an operator puts into the Secret in place of the example's placeholders."""


def secret_values() -> dict[str, str]:
    example = objects(SECRET_EXAMPLE)[0]["stringData"]
    return {key: SECRET_VALUES.get(key, value) for key, value in example.items()}


def memory_mib(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_object_is_valid_for_the_stated_kubernetes_version(path: Path) -> None:
    documents = objects(path)
    assert documents, f"{path.name} holds no object"
    for obj in documents:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name}: {obj['kind']} {obj['metadata']['name']}: {error.message}", pytrace=False)


def test_the_validator_refuses_a_wrong_manifest() -> None:
    # The check above can fail: a probe with a misspelt field and a port given as text are refused.
    deployment = yaml.safe_load(yaml.safe_dump(find("Deployment", "navigator")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/health"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_secret_example() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    expected = {p.name for p in manifest_files()} - {SECRET_EXAMPLE.name}
    assert sorted(kustomization["resources"]) == sorted(expected)
    our_images = {item["image"] for obj in deployed_objects() if obj["kind"] in WORKLOADS
                  for key in ("containers", "initContainers") for item in obj["spec"]["template"]["spec"].get(key, [])
                  if ":" not in item["image"]}
    assert our_images == {image["name"] for image in kustomization["images"]} == {"navigator", "navigator-rasa"}


def test_the_secret_example_holds_placeholders_only() -> None:
    (secret,) = objects(SECRET_EXAMPLE)
    assert secret["kind"] == "Secret" and "data" not in secret
    values = secret["stringData"]
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "NAVIGATOR_SESSION_SECRET"} <= set(values)
    assert all(value in ("", "CHANGE-ME") for value in values.values()), values
    referenced = {variable["valueFrom"]["secretKeyRef"]["key"] for obj in deployed_objects() if obj["kind"] in WORKLOADS
                  for key in ("containers", "initContainers") for item in obj["spec"]["template"]["spec"].get(key, [])
                  for variable in item.get("env", []) if "valueFrom" in variable}
    assert referenced <= set(values)


def test_no_secret_is_written_into_a_deployed_manifest() -> None:
    # Passwords reach the database and Redis addresses only through $(VAR) references to the Secret.
    for obj in deployed_objects():
        if obj["kind"] in WORKLOADS:
            for key in ("containers", "initContainers"):
                for item in obj["spec"]["template"]["spec"].get(key, []):
                    for variable in item.get("env", []):
                        value = variable.get("value", "")
                        if "@" in value:
                            assert value.split("://", 1)[1].split("@")[0].split(":")[-1].startswith("$("), value
    for name in find("ConfigMap", "navigator-settings")["data"]:
        assert not any(word in name for word in ("PASSWORD", "SECRET", "TOKEN")), name


def test_the_navigator_services_probe_the_path_and_port_the_service_serves() -> None:
    spec = pod_spec("Deployment", "navigator")
    item = container(spec, "navigator")
    port = int(option(item["command"], "--port"))
    routes = {(route.method, route.resource.canonical)
              for route in create_app(Settings(session_secret=Fernet.generate_key().decode())).router.routes()}
    assert ("GET", SERVICE_HEALTH_PATH) in routes
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = item[probe]["httpGet"]
        assert (check["path"], named_port(item, check["port"])) == (SERVICE_HEALTH_PATH, port), probe


def test_the_rasa_servers_probe_the_rest_channel_on_the_port_rasa_and_its_relay_use() -> None:
    spec = pod_spec("StatefulSet", "rasa")
    rasa, writer = container(spec, "rasa"), container(spec, "rasa-config", init=True)
    port = int(option(rasa["command"], "--port"))
    assert int(option(writer["command"], "--rasa-port")) == port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = rasa[probe]["httpGet"]
        assert (check["path"], named_port(rasa, check["port"])) == (RASA_HEALTH_PATH, port), probe


def test_rasa_reads_the_files_the_init_container_writes_from_the_manifests_settings(tmp_path: Path) -> None:
    spec = pod_spec("StatefulSet", "rasa")
    rasa, writer = container(spec, "rasa"), container(spec, "rasa-config", init=True)
    out = option(writer["command"], "--out")
    shared = {m["name"] for m in writer["volumeMounts"] if m["mountPath"] == out}
    assert shared and shared == {m["name"] for m in rasa["volumeMounts"] if m["mountPath"] == out}
    assert option(rasa["command"], "--endpoints") == f"{out}/endpoints.yml"
    assert option(rasa["command"], "--credentials") == f"{out}/credentials.yml"
    # The settings the init container gets are valid for several replicas, and give Rasa what it needs.
    settings = Settings.from_env(container_environment(writer, secret_values()))
    check_cluster_settings(settings)
    endpoints, credentials = write_config(settings, tmp_path, rasa_port=int(option(writer["command"], "--rasa-port")),
                                          service_url=option(writer["command"], "--service-url"))
    written = yaml.safe_load(endpoints.read_text()), yaml.safe_load(credentials.read_text())
    port = int(option(rasa["command"], "--port"))
    assert written[0]["action_endpoint"]["url"] == f"http://127.0.0.1:{port}/webhooks/{RELAY_NAME}/webhook"
    assert written[0]["tracker_store"]["url"] == "postgres" and written[0]["lock_store"]["url"] == "redis"
    assert "rest_channel.RestInput" in written[1]  # the channel whose GET /webhooks/rest/ the probes ask
    relay_target = written[1]["action_relay.ActionRelayInput"]["service_url"]
    navigator = find("Service", "navigator")
    assert relay_target == f"http://{navigator['metadata']['name']}:{navigator['spec']['ports'][0]['port']}/webhook"


def test_rasas_rest_channel_answers_get_at_its_root() -> None:
    rest = ROOT / ".venv-rasa" / "lib" / "python3.10" / "site-packages" / "rasa" / "core" / "channels" / "rest.py"
    if not rest.exists():
        pytest.skip("the Rasa environment is not installed (make setup)")
    assert RASA_HEALTH_PATH == "/webhooks/rest/"
    assert '@custom_webhook.route("/", methods=["GET"])' in rest.read_text(encoding="utf-8")


def test_the_services_settings_are_valid_and_shared() -> None:
    item = container(pod_spec("Deployment", "navigator"), "navigator")
    writer = container(pod_spec("StatefulSet", "rasa"), "rasa-config", init=True)
    secret = secret_values()
    settings = Settings.from_env(container_environment(item, secret))
    check_cluster_settings(settings)
    assert settings.session_secret == secret["NAVIGATOR_SESSION_SECRET"]
    assert Settings.from_env(container_environment(writer, secret)) == settings


@pytest.mark.parametrize(("kind", "name", "measured"), [("StatefulSet", "rasa", "rasa"),
                                                         ("Deployment", "navigator", "navigator")])
def test_resources_cover_the_measured_memory(kind: str, name: str, measured: str) -> None:
    resources = container(pod_spec(kind, name), name)["resources"]
    request, limit = memory_mib(resources["requests"]["memory"]), memory_mib(resources["limits"]["memory"])
    assert MEASURED_RSS_MIB[measured] <= request < limit
    assert limit >= 1.5 * MEASURED_RSS_MIB[measured]
    assert resources["requests"]["cpu"]


def test_every_container_asks_for_memory_and_cpu_and_is_probed() -> None:
    for obj in deployed_objects():
        if obj["kind"] in WORKLOADS:
            spec = obj["spec"]["template"]["spec"]
            for item in spec["containers"] + spec.get("initContainers", []):
                assert {"cpu", "memory"} <= set(item["resources"]["requests"]), item["name"]
                assert "memory" in item["resources"]["limits"], item["name"]
            for item in spec["containers"]:
                assert "readinessProbe" in item and "livenessProbe" in item, item["name"]


def test_every_service_selects_pods_and_names_their_ports() -> None:
    workloads = [obj for obj in deployed_objects() if obj["kind"] in WORKLOADS]
    for service in (obj for obj in deployed_objects() if obj["kind"] == "Service"):
        selector = service["spec"]["selector"]
        pods = [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(pods) == 1, service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            named_port(pods[0]["spec"]["template"]["spec"]["containers"][0], port["targetPort"])


def test_the_ingresses_route_to_services_and_pin_socketio_to_one_rasa_server() -> None:
    services = {obj["metadata"]["name"]: obj for obj in deployed_objects() if obj["kind"] == "Service"}
    routes = {}
    for ingress in (obj for obj in deployed_objects() if obj["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["port"]["name"] in {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                routes[path["path"]] = (ingress, backend["name"])
    socketio, service = routes["/socket.io/"]
    assert socketio["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$remote_addr"
    assert services[service]["spec"]["sessionAffinity"] == "ClientIP"
    assert routes["/webhooks/"][1] == "rasa" and "sessionAffinity" not in services["rasa"]["spec"]
    # Rasa's action protocol is never public: the services' action routes and the Rasa servers' relay.
    for path in ("/webhook", "/actions", f"/webhooks/{RELAY_NAME}/webhook"):
        internal = routes[path][0]
        assert internal["metadata"]["annotations"]["nginx.ingress.kubernetes.io/allowlist-source-range"] == \
            "127.0.0.1/32", path
        (rule,) = internal["spec"]["rules"]
        assert {p["pathType"] for p in rule["http"]["paths"]} == {"Exact"}


def test_the_stores_answer_the_pods_that_use_them() -> None:
    workloads = {obj["metadata"]["name"]: obj for obj in deployed_objects() if obj["kind"] in WORKLOADS}
    for name, port in (("postgres", 5432), ("redis", 6379)):
        policy = find("NetworkPolicy", name)
        assert policy["spec"]["podSelector"]["matchLabels"] == workloads[name]["spec"]["selector"]["matchLabels"]
        (rule,) = policy["spec"]["ingress"]
        (peer,) = rule["from"]
        (allowed,) = peer["podSelector"]["matchExpressions"]
        assert sorted(allowed["values"]) == ["navigator", "rasa"] and [p["port"] for p in rule["ports"]] == [port]
        assert all(workloads[app]["spec"]["template"]["metadata"]["labels"][allowed["key"]] == app
                   for app in allowed["values"])


def test_rasa_servers_start_one_after_another() -> None:
    # The first creates the tracker store's table in a new database before the next starts (navigator cluster).
    assert find("StatefulSet", "rasa")["spec"]["podManagementPolicy"] == "OrderedReady"
