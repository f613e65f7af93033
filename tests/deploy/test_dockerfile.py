"""deploy/container/Dockerfile, read with dockerfile-parse (no container runtime runs here): it copies files that
exist and are in the build context, installs exactly the repository's lock files, keeps the torch pin, downloads
nothing but packages, and starts what the Kubernetes manifests expect."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from tests.deploy.manifests import DOCKERIGNORE, ROOT, Stage, container, dockerfile_stages, pod_spec

STAGES = dockerfile_stages()
IMAGES = {"navigator": ("Deployment", "navigator", "navigator"), "rasa": ("StatefulSet", "rasa", "rasa")}
"""Final stages, and the workload and container that run each image."""


def ignored(path: str) -> bool:
    """True when the build context leaves ``path`` (relative to the repository) out, by Dockerfile.dockerignore."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    parts = Path(path).parts
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
            return True
    return False


def copies(stage: Stage) -> list[tuple[str | None, list[str], str]]:
    """The stage's COPY instructions as (the --from stage or None, sources, destination)."""
    found = []
    for value in stage.values("COPY"):
        words = shlex.split(value)
        origin = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        found.append((origin, paths[:-1], paths[-1]))
    return found


def run_commands(stage: Stage) -> list[str]:
    """The stage's RUN instructions, each split at ``&&`` into commands."""
    return [part.strip() for value in stage.values("RUN") for part in value.split("&&")]


def test_the_stages_build_the_two_images_on_the_locked_pythons() -> None:
    assert {"navigator", "rasa"} <= set(STAGES)
    assert STAGES["navigator"].base.startswith("python:3.11-")  # requires-python of pyproject.toml
    assert STAGES["rasa"].base.startswith("python:3.10-")  # Rasa 3.6's
    for stage in STAGES.values():
        assert ":" in stage.base and not stage.base.endswith(":latest"), stage.base


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    for stage in STAGES.values():
        for origin, sources, _ in copies(stage):
            if origin is not None:
                assert origin in STAGES and list(STAGES).index(origin) < list(STAGES).index(stage.name), origin
                continue
            for source in sources:
                assert (ROOT / source).exists(), f"{stage.name}: COPY {source}: no such file in the repository"
                assert not ignored(source), f"{stage.name}: COPY {source}: left out by Dockerfile.dockerignore"


def test_the_context_leaves_out_local_environments_and_data() -> None:
    for path in (".venv/bin/python", ".venv-rasa/bin/rasa", "var/index/manifest.json", "var/session.key",
                 "web/widget/node_modules/rasa-webchat/package.json", "navigator/__pycache__/cli.cpython-311.pyc",
                 ".git/config"):
        assert ignored(path), path
    assert not ignored("web/widget/package-lock.json") and not ignored("bot/data/nlu.yml")


def test_the_navigator_environment_is_the_locked_one() -> None:
    stage = STAGES["navigator-build"]
    assert ("requirements/app.lock", "requirements/app.lock") in {(s[0], d) for _, s, d in copies(stage)}
    installs = [c for c in run_commands(stage) if "pip install" in c]
    upgrades_pip = [c for c in installs if re.search(r'--upgrade "pip>=\d+"$', c)]
    constrained = [c for c in installs if "--constraint requirements/app.lock" in c]
    no_deps = [c for c in installs if "--no-deps" in c]
    assert installs and sorted(upgrades_pip + constrained + no_deps) == sorted(installs), installs
    # The constraint pins every dependency: each of pyproject.toml's is in the lock.
    locked = lock_names(ROOT / "requirements" / "app.lock")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {normalise(re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0]) for d in dependencies} <= set(locked)


def test_the_rasa_environment_is_the_locked_one() -> None:
    stage = STAGES["rasa-build"]
    (lock_copy,) = [(s, d) for _, s, d in copies(stage) if s == ["requirements/rasa.lock"]]
    installs = [c for c in run_commands(stage) if "pip install" in c]
    expected = f"/opt/rasa/bin/python -m pip install --requirement {lock_copy[1]}"
    assert [c for c in installs if "--upgrade" not in c] == [expected]
    assert lock_names(ROOT / "requirements" / "rasa.lock")["rasa"] == "3.6.21"


def test_torch_is_the_pinned_cpu_build_and_installed_only_from_the_lock() -> None:
    pinned = [d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
              if d.startswith("torch")]
    assert pinned == ["torch==2.13.0"]
    assert lock_names(ROOT / "requirements" / "app.lock")["torch"] == "2.13.0+cpu"
    for stage in STAGES.values():
        for command in run_commands(stage):
            assert not re.search(r"pip install[^&]*\btorch\b", command), command
    (index,) = [v for v in STAGES["navigator-build"].values("ARG") if v.startswith("PIP_EXTRA_INDEX_URL=")]
    assert index == "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu"


def test_nothing_but_packages_is_downloaded() -> None:
    for stage in STAGES.values():
        for command in run_commands(stage):
            assert not re.search(r"\b(curl|wget|git|huggingface-cli|hf)\b|https?://|snapshot_download", command), \
                command
        for value in stage.values("ADD"):
            pytest.fail(f"{stage.name}: ADD {value}: copy files with COPY; download nothing")
    # The embedding model is loaded from its package, offline, while the index is built and in the image.
    for name in ("navigator-build", "navigator"):
        environment = " ".join(STAGES[name].values("ENV"))
        assert "HF_HUB_OFFLINE=1" in environment and "TRANSFORMERS_OFFLINE=1" in environment, name
    assert "/opt/venv/bin/navigator index build" in run_commands(STAGES["navigator-build"])
    assert "rasa-webchat" in (ROOT / "web" / "widget" / "package-lock.json").read_text()
    assert "npm ci --no-audit --no-fund --ignore-scripts" in run_commands(STAGES["widget"])


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_runs_as_the_manifests_expect(image: str) -> None:
    import json

    stage = STAGES[image]
    kind, workload, name = IMAGES[image]
    spec = pod_spec(kind, workload)
    item = container(spec, name)
    (command,) = list(stage.values("CMD"))
    assert json.loads(command) == item["command"]
    (exposed,) = list(stage.values("EXPOSE"))
    assert [int(exposed)] == [p["containerPort"] for p in item["ports"]]
    (user,) = list(stage.values("USER"))
    assert int(user) == spec["securityContext"]["runAsUser"]


def test_the_rasa_image_holds_the_model_its_command_loads() -> None:
    (train,) = [c for c in run_commands(STAGES["rasa-build"]) if " train " in c]
    words = shlex.split(train)
    model = f"{option_of(words, '--out')}/{option_of(words, '--fixed-model-name')}.tar.gz"
    assert option_of(container(pod_spec("StatefulSet", "rasa"), "rasa")["command"], "--model") == model
    assert ("/app", "/app") in {(s[0], d) for o, s, d in copies(STAGES["rasa"]) if o == "rasa-build"}
    assert (ROOT / "bot" / "config.yml").exists() and (ROOT / "bot" / "domain.yml").exists()


def option_of(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]


def lock_names(lock: Path) -> dict[str, str]:
    """The lock file's pins: normalised name to version."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[normalise(name)] = version.strip()
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
