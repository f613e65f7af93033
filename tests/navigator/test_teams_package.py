"""``navigator teams-package``: the Teams app zip, its manifest checked against the vendored schema."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from navigator.cli import main
from navigator.teams_package import (COMMAND_ID, PARAMETER_NAME, AppDetails, TeamsPackageError, manifest, png_size,
                                     schema_errors, write_package)

APP_ID = "00000000-1111-2222-3333-444444444444"
DETAILS = AppDetails(APP_ID, "https://navigator.example.org", "https://navigator.example.org/privacy",
                     "https://navigator.example.org/terms")


def pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """The RGBA pixels of a PNG this module wrote (8-bit RGBA, filter 0 on every row)."""
    width, height = png_size(data)
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            idat += data[position + 8:position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    assert all(raw[row * stride] == 0 for row in range(height))
    return [tuple(raw[row * stride + 1 + 4 * col:row * stride + 5 + 4 * col]) for row in range(height)
            for col in range(width)]


def test_the_command_writes_a_zip_with_the_manifest_and_both_icons(tmp_path: Path, capsys) -> None:
    out = tmp_path / "teams" / "navigator.zip"
    assert main(["teams-package", "--website-url", "https://navigator.example.org/", "--app-id", APP_ID,
                 "--version", "1.2.3", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        document = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")
    assert schema_errors(document) == []
    assert document["manifestVersion"] == "1.17" and "/v1.17/" in document["$schema"]
    assert (document["id"], document["version"]) == (APP_ID, "1.2.3")
    assert document["developer"]["privacyUrl"] == "https://navigator.example.org/privacy"
    assert document["bots"][0]["botId"] == APP_ID
    command = document["composeExtensions"][0]["commands"][0]
    assert (command["id"], command["type"], command["parameters"][0]["name"]) == (COMMAND_ID, "query", PARAMETER_NAME)
    assert png_size(color) == (192, 192) and png_size(outline) == (32, 32)
    assert {p[3] for p in pixels(color)} == {255}
    outline_pixels = set(pixels(outline))
    assert outline_pixels == {(255, 255, 255, 255), (0, 0, 0, 0)}  # white on transparent only


def test_the_extension_names_what_the_channel_reads() -> None:
    import teams_extension

    assert (COMMAND_ID, PARAMETER_NAME) == (teams_extension.COMMAND_ID, teams_extension.PARAMETER_NAME)


@pytest.mark.parametrize(("change", "message"), [
    ({"app_id": "not-a-guid"}, "--app-id"),
    ({"website_url": "http://navigator.example.org"}, "--website-url"),
    ({"terms_url": ""}, "--terms-url"),
    ({"version": "1.0"}, "--version"),
])
def test_wrong_inputs_are_named(tmp_path: Path, change: dict[str, str], message: str) -> None:
    details = AppDetails(**{**DETAILS.__dict__, **change})
    with pytest.raises(TeamsPackageError, match=message):
        write_package(details, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_the_schema_catches_what_the_inputs_check_does_not() -> None:
    document = manifest(DETAILS)
    document["accentColor"] = "blue"
    document["name"]["short"] = "N" * 31
    del document["developer"]["termsOfUseUrl"]
    errors = schema_errors(document)
    assert any(e.startswith("/accentColor:") for e in errors)
    assert any(e.startswith("/name/short:") for e in errors)
    assert any(e.startswith("/developer:") and "termsOfUseUrl" in e for e in errors)


def test_a_manifest_version_without_a_vendored_schema_is_refused() -> None:
    with pytest.raises(TeamsPackageError, match="no schema for Teams manifest version 1.99"):
        schema_errors({**manifest(DETAILS), "manifestVersion": "1.99"})


def test_without_an_app_id_the_command_says_which_setting(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("NAVIGATOR_TEAMS_APP_ID", raising=False)
    monkeypatch.delenv("NAVIGATOR_TEAMS_APP_PASSWORD", raising=False)
    assert main(["teams-package", "--website-url", "https://navigator.example.org", "--out",
                 str(tmp_path / "x.zip")]) == 1
    assert "NAVIGATOR_TEAMS_APP_ID" in capsys.readouterr().err
