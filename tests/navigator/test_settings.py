from __future__ import annotations

from pathlib import Path

import pytest

from navigator.settings import PROJECT_ROOT, Settings, SettingsError


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
