"""The shipped deployment files as data, for the tests of tests/deploy: the Kubernetes manifests of
deploy/kubernetes/ and the Dockerfile of deploy/container/."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
CONTAINER = ROOT / "deploy" / "container"
DOCKERFILE = CONTAINER / "Dockerfile"
DOCKERIGNORE = CONTAINER / "Dockerfile.dockerignore"
KUSTOMIZATION = KUBERNETES / "kustomization.yaml"
SECRET_EXAMPLE = KUBERNETES / "secret.example.yaml"
KUBERNETES_VERSION = "1.33.0"
"""The Kubernetes version whose schemas (bundled in kubernetes-validate) the manifests are checked against."""


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest of deploy/kubernetes (the kustomization is kustomize's file, not an object)."""
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p != KUSTOMIZATION)


def objects(path: Path) -> list[dict[str, Any]]:
    """The objects of one manifest file (YAML documents), empty documents left out."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def deployed_objects() -> list[dict[str, Any]]:
    """The objects `kubectl apply -k deploy/kubernetes` creates: those of the kustomization's resources."""
    resources = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))["resources"]
    return [obj for name in resources for obj in objects(KUBERNETES / name)]


def find(kind: str, name: str) -> dict[str, Any]:
    """The deployed object of this kind and name."""
    for obj in deployed_objects():
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise LookupError(f"no {kind} {name} in deploy/kubernetes")


def pod_spec(kind: str, name: str) -> dict[str, Any]:
    return find(kind, name)["spec"]["template"]["spec"]


def container(spec: Mapping[str, Any], name: str, *, init: bool = False) -> dict[str, Any]:
    for item in spec["initContainers" if init else "containers"]:
        if item["name"] == name:
            return item
    raise LookupError(f"no container {name}")


def option(command: list[str], flag: str) -> str:
    """The value after ``flag`` in a command line."""
    return command[command.index(flag) + 1]


def named_port(item: Mapping[str, Any], port: int | str) -> int:
    """A container port by number or by name."""
    if isinstance(port, int):
        return port
    for declared in item.get("ports", []):
        if declared.get("name") == port:
            return declared["containerPort"]
    raise LookupError(f"container {item['name']} has no port named {port}")


def expand(value: str, environment: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` references, expanded as the kubelet does from the variables defined so far."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: environment.get(m.group(1), m.group(0)), value)


def container_environment(item: Mapping[str, Any], secret: Mapping[str, str]) -> dict[str, str]:
    """The environment a container of the deployed objects gets, with ``secret`` standing for the Secret's values:
    ``envFrom`` first, then ``env`` in order, each value expanded from what came before."""
    environment: dict[str, str] = {}
    for source in item.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(find("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            environment.update(secret)
    for variable in item.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = expand(variable["value"], environment)
        else:
            environment[variable["name"]] = secret[variable["valueFrom"]["secretKeyRef"]["key"]]
    return environment


@dataclass(frozen=True)
class Stage:
    """One stage of the Dockerfile: its name, base, and instructions as (instruction, value) pairs."""

    name: str
    base: str
    instructions: tuple[tuple[str, str], ...]

    def values(self, instruction: str) -> Iterator[str]:
        return (value for kind, value in self.instructions if kind == instruction)


def dockerfile_stages() -> dict[str, Stage]:
    """The Dockerfile's stages by name, parsed with dockerfile-parse; the global ARG defaults are substituted in
    each FROM."""
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    arguments: dict[str, str] = {}
    parsed: list[tuple[str, str, list[tuple[str, str]]]] = []
    for item in parser.structure:
        kind, value = item["instruction"], item["value"]
        if kind == "COMMENT":
            continue
        if kind == "ARG" and not parsed and "=" in value:
            key, default = value.split("=", 1)
            arguments[key] = default
        elif kind == "FROM":
            base, _, name = value.partition(" AS ")
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], base.strip())
            parsed.append((name.strip(), base, []))
        elif parsed:
            parsed[-1][2].append((kind, value))
    return {name: Stage(name, base, tuple(instructions)) for name, base, instructions in parsed}
