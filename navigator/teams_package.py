"""The Teams app package (``navigator teams-package``): the zip a Teams administrator uploads to add Navigator.

The zip holds ``manifest.json``, ``color.png`` (192×192, full colour) and ``outline.png`` (32×32, white on
transparent). The manifest declares the bot (personal chat, teams and group chats) and its search-based
messaging extension (``composeExtension/query``, command ``searchCatalogue`` with one parameter ``need``, which
bot/teams_extension.py answers). It is checked against the JSON schema of the manifest version it declares
before anything is written.

The schema is vendored: navigator/schemas/teams-manifest-v1.17.schema.json is
``build/json-schemas/teams/v1.17/MicrosoftTeams.schema.json`` from the npm package ``@microsoft/app-manifest``
1.1.2 (MIT licence, Microsoft's own Teams manifest library), unchanged. Teams publishes the same file at
``https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json``.

The icons are drawn here (an "N" on the programme's accent colour) and encoded as PNG with the standard
library, so packaging needs neither Pillow nor files kept in the repository.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from navigator.settings import PROJECT_ROOT, Settings

MANIFEST_VERSION = "1.17"
SCHEMA_DIR = PROJECT_ROOT / "navigator" / "schemas"
SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
ACCENT_COLOR = "#1F5F8B"
COMMAND_ID = "searchCatalogue"
PARAMETER_NAME = "need"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class TeamsPackageError(ValueError):
    """The package cannot be made as asked; the message says which input is wrong."""


@dataclass(frozen=True)
class AppDetails:
    """What the manifest says about the app.

    Attributes:
        app_id: the Azure bot's Microsoft app id (a GUID); also used as the Teams app's id.
        website_url, privacy_url, terms_url: https pages about the service, its privacy notice and terms.
        version: the app package's version (``MAJOR.MINOR.PATCH``); raise it for each upload of a change.
        developer: the organisation shown as the app's developer.
        domains: host names the app's cards may link to or open (``validDomains``).
    """

    app_id: str
    website_url: str
    privacy_url: str
    terms_url: str
    version: str = "1.0.0"
    developer: str = "Stockholm Life Tech"
    domains: tuple[str, ...] = ()


def manifest(details: AppDetails) -> dict[str, Any]:
    """The app manifest (version :data:`MANIFEST_VERSION`) for ``details``."""
    return {
        "$schema": SCHEMA_URL.format(version=MANIFEST_VERSION),
        "manifestVersion": MANIFEST_VERSION,
        "version": details.version,
        "id": details.app_id,
        "developer": {"name": details.developer, "websiteUrl": details.website_url,
                      "privacyUrl": details.privacy_url, "termsOfUseUrl": details.terms_url},
        "name": {"short": "Navigator", "full": "Navigator: research infrastructure for companies"},
        "description": {
            "short": "Find labs, facilities, experts and funding for your company's need.",
            "full": ("Navigator finds the research infrastructure, expertise and funding of the Flemingsberg and "
                     "Hagastaden/Solna life-science programme that fit a company's need, says why each match "
                     "fits and whom to contact, and opens a support request for an innovation advisor. Advisors "
                     "can search the catalogue from the compose box and drop a facility into any chat or "
                     "meeting."),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [{"botId": details.app_id, "scopes": ["personal", "team", "groupChat"], "supportsFiles": False,
                  "isNotificationOnly": False,
                  "commandLists": [{"scopes": ["personal"], "commands": [
                      {"title": "help", "description": "What Navigator can do"},
                      {"title": "open a support request", "description": "Ask an innovation advisor to follow up"},
                  ]}]}],
        "composeExtensions": [{"botId": details.app_id, "commands": [{
            "id": COMMAND_ID, "type": "query", "title": "Search the catalogue",
            "description": "Find a facility, expert or funding programme for a need", "initialRun": False,
            "context": ["compose", "commandBox"],
            "parameters": [{"name": PARAMETER_NAME, "title": "Need", "inputType": "text",
                            "description": "The need in plain words, such as GMP manufacturing of a viral vector"}],
        }]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": list(details.domains),
    }


def schema_for(manifest_version: str, schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The vendored JSON schema of a manifest version.

    Raises:
        TeamsPackageError: no schema of that version is vendored.
    """
    path = schema_dir / f"teams-manifest-v{manifest_version}.schema.json"
    if not path.is_file():
        raise TeamsPackageError(f"no schema for Teams manifest version {manifest_version} in {schema_dir}")
    return json.loads(path.read_text(encoding="utf-8"))


def schema_errors(document: dict[str, Any], schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Where ``document`` breaks the schema of the manifest version it declares, as ``path: message`` lines
    (empty when it is valid)."""
    import jsonschema_rs

    schema = schema_for(str(document.get("manifestVersion", "")), schema_dir)
    validator = jsonschema_rs.Draft4Validator(schema)
    return sorted(f"/{'/'.join(str(p) for p in error.instance_path)}: {error.message}"
                  for error in validator.iter_errors(document))


def check_details(details: AppDetails) -> None:
    """Clear errors for the inputs a person types, before the schema's own.

    Raises:
        TeamsPackageError: naming the option to fix.
    """
    if not _GUID.match(details.app_id):
        raise TeamsPackageError(f"--app-id must be the bot's Microsoft app id (NAVIGATOR_TEAMS_APP_ID), a GUID "
                                f"such as 00000000-0000-0000-0000-000000000000, got '{details.app_id}'")
    for option, url in (("--website-url", details.website_url), ("--privacy-url", details.privacy_url),
                        ("--terms-url", details.terms_url)):
        if not re.match(r"^https://[^\s/]+", url or ""):
            raise TeamsPackageError(f"{option} must be an https:// address (Teams requires https), got '{url}'")
    if not re.fullmatch(r"\d+\.\d+\.\d+", details.version):
        raise TeamsPackageError(f"--version must be MAJOR.MINOR.PATCH such as 1.0.0, got '{details.version}'")


def write_package(details: AppDetails, out: Path, schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Write the zip to ``out`` (its folder is made) after checking the manifest against its schema.

    Returns:
        The manifest written.

    Raises:
        TeamsPackageError: a bad input, or a manifest the schema refuses (with every error).
    """
    check_details(details)
    document = manifest(details)
    errors = schema_errors(document, schema_dir)
    if errors:
        raise TeamsPackageError("the manifest does not match its schema:\n  " + "\n  ".join(errors))
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    out.write_bytes(buffer.getvalue())
    return document


# The icons -----------------------------------------------------------------------------------------------------

def _letter_n(x: float, y: float) -> bool:
    """Whether the point (x, y) of the unit square lies on the letter N."""
    if not 0.22 <= y <= 0.78:
        return False
    if 0.24 <= x <= 0.36 or 0.64 <= x <= 0.76:
        return True
    # The diagonal from the top of the left stem to the bottom of the right one.
    t = (y - 0.22) / 0.56
    centre = 0.30 + t * 0.40
    return abs(x - centre) <= 0.075


def _draw(size: int, inside: Callable[[float, float], bool], ink: tuple[int, int, int, int],
          background: tuple[int, int, int, int]) -> list[bytes]:
    rows = []
    for row in range(size):
        pixels = bytearray()
        for column in range(size):
            pixels += bytes(ink if inside((column + 0.5) / size, (row + 0.5) / size) else background)
        rows.append(bytes(pixels))
    return rows


def png(rows: list[bytes], size: int) -> bytes:
    """An 8-bit RGBA PNG of ``size``×``size`` pixels from rows of RGBA bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def color_icon() -> bytes:
    """The 192×192 colour icon: a white N on the accent colour."""
    accent = tuple(int(ACCENT_COLOR[i:i + 2], 16) for i in (1, 3, 5)) + (255,)
    return png(_draw(COLOR_SIZE, _letter_n, (255, 255, 255, 255), accent), COLOR_SIZE)


def outline_icon() -> bytes:
    """The 32×32 outline icon: a white N on a transparent background (Teams allows only white and transparent)."""
    return png(_draw(OUTLINE_SIZE, _letter_n, (255, 255, 255, 255), (0, 0, 0, 0)), OUTLINE_SIZE)


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height in a PNG's header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise TeamsPackageError("not a PNG file")
    return struct.unpack(">II", data[16:24])


# The command line ----------------------------------------------------------------------------------------------

def add_teams_package_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``teams-package`` to the ``navigator`` command line."""
    command = subparsers.add_parser("teams-package", help="write the Teams app package (manifest and icons) to upload")
    command.add_argument("--website-url", required=True, help="https address of the service's public pages")
    command.add_argument("--privacy-url", help="https address of the privacy notice (default: WEBSITE/privacy)")
    command.add_argument("--terms-url", help="https address of the terms of use (default: WEBSITE/terms)")
    command.add_argument("--app-id", help="the bot's Microsoft app id (default: NAVIGATOR_TEAMS_APP_ID)")
    command.add_argument("--version", default="1.0.0", dest="app_version",
                         help="the package's version, raised for each new upload (default: 1.0.0)")
    command.add_argument("--out", type=Path, default=Path("var/teams/navigator-teams.zip"),
                         help="the zip to write (default: var/teams/navigator-teams.zip)")
    command.set_defaults(handler=_teams_package)


def _teams_package(args: argparse.Namespace, settings: Settings) -> int:
    website = args.website_url.rstrip("/")
    details = AppDetails(app_id=args.app_id or settings.teams_app_id, website_url=website,
                         privacy_url=args.privacy_url or f"{website}/privacy",
                         terms_url=args.terms_url or f"{website}/terms", version=args.app_version)
    if not details.app_id:
        raise TeamsPackageError("--app-id is required when NAVIGATOR_TEAMS_APP_ID is not set")
    document = write_package(details, args.out)
    print(f"wrote {args.out} (Teams manifest {document['manifestVersion']}, app {document['version']}, "
          f"bot {details.app_id}); upload it in Teams: Apps > Manage your apps > Upload an app")
    return 0
